using System.Diagnostics;
using System.Globalization;
using System.Security;
using System.Text;
using FinNews.Core.Feeds;
using FinNews.Core.Search;
using FinNews.Core.Storage.Sqlite;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace FinNews.Bench;

/// <summary>
/// End-to-end ingest of generated RSS 2.0 feeds into a fresh SQLite file, the way the app does it: per feed
/// parse → normalize → <see cref="SqliteStore.CommitFetch(string, IReadOnlyList{Article}, string?, string?, DateTimeOffset)"/>
/// (one transaction), then <see cref="SearchIndexer.DrainAsync"/> over a <see cref="SqliteSearchIndex"/> with the
/// <see cref="HashingEmbedder"/>. A second pass over the same documents must insert nothing.
/// </summary>
internal static class IngestBench
{
    public static async Task RunAsync(int items, int feeds, string directory, string pipeline)
    {
        if (pipeline is not ("app" or "sequential"))
        {
            throw new ArgumentException($"--pipeline is app or sequential, not '{pipeline}'");
        }

        var root = RepoPaths.Root();
        var watchlist = Watchlist.Load(Path.Combine(root, "config", "watchlist.json"));
        var normalizer = new ArticleNormalizer(new TickerTagger(watchlist));
        Console.WriteLine(RepoPaths.Machine());

        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }

        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, "ingest.db");
        var total = Stopwatch.StartNew();

        // The app pipeline reads the feeds as local files under the "config folder" (here the bench folder), as the
        // bundled samples are read; the sequential pipeline keeps the documents in memory.
        var app = pipeline == "app";
        var timer = Stopwatch.StartNew();
        var definitions = Enumerable.Range(0, feeds)
            .Select(f => new FeedDefinition(string.Create(CultureInfo.InvariantCulture, $"bench-{f:D3}"), $"{Outlets[f % Outlets.Length]} {f}",
                string.Create(CultureInfo.InvariantCulture, $"https://feeds{f}.bench.test/markets.rss")))
            .ToList();
        var documents = new List<byte[]>(feeds);
        var random = new Random(42);
        long generatedBytes = 0;
        for (var f = 0; f < feeds; f++)
        {
            var count = items / feeds + (f < items % feeds ? 1 : 0);
            var document = Generate(definitions[f], f, count, watchlist, random);
            generatedBytes += document.Length;
            if (app)
            {
                Directory.CreateDirectory(Path.Combine(directory, "feeds"));
                await File.WriteAllBytesAsync(Path.Combine(directory, "feeds", definitions[f].Id + ".xml"), document);
            }
            else
            {
                documents.Add(document);
            }
        }

        if (app)
        {
            // Same ids, names and generated content; only where the bytes come from differs.
            definitions = definitions.ConvertAll(d => d with { Url = $"feeds/{d.Id}.xml" });
        }

        Console.WriteLine(RepoPaths.I(
            $"pipeline {pipeline}: generated {feeds} RSS 2.0 documents, {items:N0} items, {generatedBytes / 1e6:F1} MB in {timer.Elapsed.TotalSeconds:F1} s ({(app ? "written under " + directory + "/feeds" : "held in memory")})"));
        Snapshot("after generate");

        var store = new SqliteStore(path);
        store.Initialize();
        store.SyncFeeds(definitions);
        using var embedder = new HashingEmbedder();
        using var http = new HttpClient();
        var ingestor = new FeedIngestor(new FeedFetcher(http, new FetchOptions(), directory), normalizer, store, store, new FixedTime(At),
            NullLogger<FeedIngestor>.Instance);

        var cpu = Cpu();
        var allocated = GC.GetTotalAllocatedBytes();
        var paused = GC.GetTotalPauseDuration();
        var first = app ? await StoreAppAsync(ingestor, definitions, "pass 1") : Store(store, normalizer, definitions, documents, "pass 1");
        Console.WriteLine(RepoPaths.I($"  store phase CPU {Cpu() - cpu:F1} s (user + system, all threads), allocated {(GC.GetTotalAllocatedBytes() - allocated) / 1e9:F1} GB, GC pauses {(GC.GetTotalPauseDuration() - paused).TotalSeconds:F1} s; loadavg {RepoPaths.LoadAverage()}"));
        Snapshot("after store");

        // The index phase ends when the index is closed: closing waits for Lucene's background merges, which belong to it.
        cpu = Cpu();
        allocated = GC.GetTotalAllocatedBytes();
        paused = GC.GetTotalPauseDuration();
        timer.Restart();
        var index = new TimedIndex(new SqliteSearchIndex(store.ConnectionString, embedder, HashingEmbedder.ProviderName));
        var indexed = await new SearchIndexer(store, index, NullLogger<SearchIndexer>.Instance).DrainAsync(progress: n =>
        {
            if (n % (5 * SearchIndexer.DefaultBatchSize) == 0)
            {
                Console.WriteLine(RepoPaths.I($"  indexed {n:N0}, {n / timer.Elapsed.TotalSeconds:F0} items/s"));
            }
        });
        var drained = timer.Elapsed.TotalSeconds;
        index.Dispose();
        var indexSeconds = timer.Elapsed.TotalSeconds;
        Console.WriteLine(RepoPaths.I(
            $"index phase: {indexed:N0} articles in {indexSeconds:F1} s = {indexed / indexSeconds:F0} items/s (embed + Lucene + SQLite + vectors, batches of {SearchIndexer.DefaultBatchSize}; closing the index {indexSeconds - drained:F1} s of it)"));
        Console.WriteLine(RepoPaths.I(
            $"  index phase CPU {Cpu() - cpu:F1} s, allocated {(GC.GetTotalAllocatedBytes() - allocated) / 1e9:F1} GB, GC pauses {(GC.GetTotalPauseDuration() - paused).TotalSeconds:F1} s; IndexAsync {index.Seconds:F1} s over {index.Calls} calls (the rest: reading batches from and marking them in the store, closing); loadavg {RepoPaths.LoadAverage()}"));
        Snapshot("after index");

        var storeAndIndex = first.Seconds + indexSeconds;
        Console.WriteLine(RepoPaths.I(
            $"overall (store + index): {first.Items:N0} items in {storeAndIndex:F1} s = {first.Items / storeAndIndex:F0} items/s"));
        using var reopened = new SqliteSearchIndex(store.ConnectionString, embedder, HashingEmbedder.ProviderName);
        Console.WriteLine(RepoPaths.I(
            $"db {DbBytes(path) / 1e6:F1} MB (file + wal), {store.CountArticles():N0} articles, {await reopened.CountAsync():N0} chunks"));

        // Idempotence: the same documents again store nothing new and leave nothing to index.
        var second = app ? await StoreAppAsync(ingestor, definitions, "pass 2 (same documents)") : Store(store, normalizer, definitions, documents, "pass 2 (same documents)");
        var reindexed = await new SearchIndexer(store, reopened, NullLogger<SearchIndexer>.Instance).DrainAsync();
        Console.WriteLine(RepoPaths.I(
            $"second pass: inserted={second.Inserted} updated={second.Updated} duplicates={second.Duplicates:N0} indexed={reindexed} articles={store.CountArticles():N0} -> {(second.Inserted == 0 && second.Updated == 0 && reindexed == 0 ? "idempotent" : "NOT IDEMPOTENT")}"));

        total.Stop();
        Snapshot("end");
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        Console.WriteLine(RepoPaths.I(
            $"peak working set {process.PeakWorkingSet64 / 1e6:F0} MB; GC committed now {GC.GetGCMemoryInfo().TotalCommittedBytes / 1e6:F0} MB; allocated {GC.GetTotalAllocatedBytes() / 1e9:F1} GB total; elapsed {total.Elapsed.TotalSeconds:F1} s; loadavg {RepoPaths.LoadAverage()}"));
        SqliteConnection.ClearAllPools();
    }

    private static readonly DateTimeOffset At = new(2025, 6, 2, 12, 0, 0, TimeSpan.Zero);

    /// <summary>The app's store phase: <see cref="FeedIngestor.IngestAsync"/> (reads and parses a few feeds at once, stores in feed order).</summary>
    private static async Task<PassResult> StoreAppAsync(FeedIngestor ingestor, List<FeedDefinition> feeds, string label)
    {
        var timer = Stopwatch.StartNew();
        var results = await ingestor.IngestAsync(feeds, null, CancellationToken.None);
        var seconds = timer.Elapsed.TotalSeconds;
        if (results.FirstOrDefault(r => r.Error is not null) is { } failed)
        {
            throw new InvalidOperationException($"feed {failed.FeedId}: {failed.Error}");
        }

        var counts = results.Select(r => r.Counts!).ToList();
        var result = new PassResult(results.Sum(r => r.Items), counts.Sum(c => c.Inserted), counts.Sum(c => c.Updated), counts.Sum(c => c.Duplicates), seconds);
        Console.WriteLine(RepoPaths.I(
            $"store phase, {label}: {result.Items:N0} items in {seconds:F1} s = {result.Items / seconds:F0} items/s; inserted={result.Inserted:N0} updated={result.Updated} duplicates={result.Duplicates:N0} (FeedIngestor: read + parse + normalize up to {new PollOptions().MaxConcurrentFeeds} feeds at once, CommitFetch in feed order)"));
        return result;
    }

    /// <summary>The bench's fixed "now": generated items are dated before it.</summary>
    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    private static double Cpu()
    {
        using var process = Process.GetCurrentProcess();
        return process.TotalProcessorTime.TotalSeconds;
    }

    /// <summary>Times the index writes of a drain, so the bench can say what the store's reads and marks cost.</summary>
    private sealed class TimedIndex(SqliteSearchIndex inner) : ISearchIndex, IDisposable
    {
        public void Dispose() => inner.Dispose();

        public double Seconds { get; private set; }

        public int Calls { get; private set; }

        public Task InitializeAsync(CancellationToken cancellationToken = default) => inner.InitializeAsync(cancellationToken);

        public async Task IndexAsync(IReadOnlyList<Article> articles, CancellationToken cancellationToken = default)
        {
            var start = Stopwatch.GetTimestamp();
            await inner.IndexAsync(articles, cancellationToken);
            Seconds += Stopwatch.GetElapsedTime(start).TotalSeconds;
            Calls++;
        }

        public Task<IReadOnlyList<SearchHit>> SearchAsync(SearchQuery query, CancellationToken cancellationToken = default) => inner.SearchAsync(query, cancellationToken);

        public Task DeleteAsync(IReadOnlyCollection<string> articleIds, CancellationToken cancellationToken = default) => inner.DeleteAsync(articleIds, cancellationToken);

        public Task ClearAsync(CancellationToken cancellationToken = default) => inner.ClearAsync(cancellationToken);

        public Task<long> CountAsync(CancellationToken cancellationToken = default) => inner.CountAsync(cancellationToken);
    }

    internal sealed record PassResult(int Items, int Inserted, int Updated, int Duplicates, double Seconds);

    internal static PassResult Store(IFeedStore store, ArticleNormalizer normalizer, List<FeedDefinition> feeds, List<byte[]> documents, string label)
    {
        var at = At;
        int items = 0, inserted = 0, updated = 0, duplicates = 0;
        long parseTicks = 0, normalizeTicks = 0, commitTicks = 0;
        var timer = Stopwatch.StartNew();
        for (var f = 0; f < feeds.Count; f++)
        {
            var feed = feeds[f];
            var t0 = Stopwatch.GetTimestamp();
            var parsed = FeedParser.Parse(documents[f], null, new Uri(feed.Url));
            var t1 = Stopwatch.GetTimestamp();
            var articles = new List<Article>(parsed.Items.Count);
            var ids = new HashSet<string>(StringComparer.Ordinal);
            foreach (var item in parsed.Items)
            {
                if (normalizer.Normalize(item, feed, feed.Name, at) is { } article && ids.Add(article.Id))
                {
                    articles.Add(article);
                }
            }

            var t2 = Stopwatch.GetTimestamp();
            var counts = store.CommitFetch(feed.Id, articles, "\"bench\"", null, at);
            var t3 = Stopwatch.GetTimestamp();
            (parseTicks, normalizeTicks, commitTicks) = (parseTicks + t1 - t0, normalizeTicks + t2 - t1, commitTicks + t3 - t2);
            items += parsed.Items.Count;
            inserted += counts.Inserted;
            updated += counts.Updated;
            duplicates += counts.Duplicates;
            if ((f + 1) % 20 == 0)
            {
                Console.WriteLine(RepoPaths.I($"  {label}: {f + 1} feeds, {items:N0} items, {items / timer.Elapsed.TotalSeconds:F0} items/s"));
            }
        }

        var seconds = timer.Elapsed.TotalSeconds;
        double S(long ticks) => (double)ticks / Stopwatch.Frequency;
        Console.WriteLine(RepoPaths.I(
            $"store phase, {label}: {items:N0} items in {seconds:F1} s = {items / seconds:F0} items/s; inserted={inserted:N0} updated={updated} duplicates={duplicates:N0}; parse {S(parseTicks):F1} s, normalize {S(normalizeTicks):F1} s, CommitFetch {S(commitTicks):F1} s"));
        return new PassResult(items, inserted, updated, duplicates, seconds);
    }

    private static void Snapshot(string label)
    {
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        var (committed, mapped) = (Sampler.PeakCommitted, Sampler.PeakFileBacked);
        Sampler.Reset();
        Console.WriteLine(RepoPaths.I(
            $"  [{label}] working set {process.WorkingSet64 / 1e6:F0} MB (peak {process.PeakWorkingSet64 / 1e6:F0} MB), managed heap {GC.GetTotalMemory(false) / 1e6:F0} MB; since the last line: GC committed peak {committed / 1e6:F0} MB, file-backed resident peak {mapped / 1e6:F0} MB"));
    }

    /// <summary>Samples the GC's committed memory and the file-backed resident pages (mapped index files) every 50 ms.</summary>
    private static class Sampler
    {
        private static long _committed;
        private static long _fileBacked;
        private static readonly Timer Timer = new(_ => Sample(), null, 0, 50);

        public static long PeakCommitted => Interlocked.Read(ref _committed);

        public static long PeakFileBacked => Interlocked.Read(ref _fileBacked);

        public static void Reset()
        {
            GC.KeepAlive(Timer);
            Interlocked.Exchange(ref _committed, 0);
            Interlocked.Exchange(ref _fileBacked, 0);
        }

        private static void Sample()
        {
            var committed = GC.GetGCMemoryInfo().TotalCommittedBytes;
            long fileBacked = 0;
            try
            {
                // RssFile in /proc/self/status: resident pages backed by files (the memory-mapped Lucene segments).
                foreach (var line in File.ReadLines("/proc/self/status"))
                {
                    if (line.StartsWith("RssFile:", StringComparison.Ordinal))
                    {
                        fileBacked = long.Parse(line.AsSpan(8).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture) * 1024;
                    }
                }
            }
            catch (IOException)
            {
            }

            Max(ref _committed, committed);
            Max(ref _fileBacked, fileBacked);
        }

        private static void Max(ref long field, long value)
        {
            long seen;
            while (value > (seen = Interlocked.Read(ref field)) && Interlocked.CompareExchange(ref field, value, seen) != seen)
            {
            }
        }
    }

    private static long DbBytes(string path) =>
        new[] { string.Empty, "-wal", "-shm" }.Select(s => new FileInfo(path + s)).Where(f => f.Exists).Sum(f => f.Length);

    internal static readonly string[] Outlets = ["Harbor Wire", "Ledger Daily", "Tally Markets", "Copper Street", "Meridian Brief"];

    private static readonly string[] Verbs =
        ["rises", "falls", "jumps", "slides", "beats estimates", "misses estimates", "raises guidance", "cuts guidance", "announces buyback", "files 10-Q"];

    private static readonly string[] Subjects =
        ["quarterly revenue", "operating margin", "cloud bookings", "chip shipments", "loan growth", "refining margins", "same-store sales", "free cash flow"];

    private static readonly string[] Phrases =
    [
        "Analysts had expected a softer quarter after the guidance cut in the spring.",
        "The company said demand remained strong across its largest regions.",
        "Shares moved sharply in after-hours trading on heavier than usual volume.",
        "Management pointed to pricing pressure and higher input costs.",
        "The board also approved a dividend & a new share repurchase plan.",
        "Regulators are still reviewing the proposed acquisition, people familiar said.",
        "Bond yields edged higher as traders priced in another rate decision.",
        "The results include a one-time charge related to restructuring.",
    ];

    /// <summary>One RSS 2.0 document; descriptions carry HTML (escaped for even items, CDATA for odd ones).</summary>
    internal static byte[] Generate(FeedDefinition feed, int feedIndex, int count, Watchlist watchlist, Random random)
    {
        var start = new DateTimeOffset(2025, 6, 1, 0, 0, 0, TimeSpan.Zero);
        var host = new Uri(feed.Url).Host;
        var sb = new StringBuilder(count * 1_100);
        sb.Append("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rss version=\"2.0\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><channel>")
            .Append("<title>").Append(SecurityElement.Escape(feed.Name)).Append("</title><link>https://").Append(host).Append("/</link>")
            .Append("<description>Markets news</description><language>en-us</language>\n");
        for (var i = 0; i < count; i++)
        {
            var ticker = watchlist.Tickers[random.Next(watchlist.Tickers.Count)];
            var other = watchlist.Tickers[random.Next(watchlist.Tickers.Count)];
            var published = start.AddMinutes(-(i * 7 + feedIndex));
            var change = (random.NextDouble() * 20).ToString("F1", CultureInfo.InvariantCulture);
            var subject = Subjects[random.Next(Subjects.Length)];
            var verb = Verbs[random.Next(Verbs.Length)];
            var title = random.Next(3) switch
            {
                0 => $"{ticker.Name} {verb} as {subject} moves {change}%",
                1 => $"${ticker.Symbol}: {subject} {verb}, {change}% move",
                _ => $"{ticker.Name} ({ticker.Exchange}: {ticker.Symbol}) {verb}",
            };
            var amount = (random.NextDouble() * 900 + 10).ToString("F2", CultureInfo.InvariantCulture);
            var slug = string.Create(CultureInfo.InvariantCulture, $"{ticker.Symbol.ToLowerInvariant()}-{subject.Replace(' ', '-')}-{i}");
            var link = string.Create(CultureInfo.InvariantCulture, $"https://{host}/markets/{published:yyyy/MM/dd}/{slug}?utm_source=rss&utm_medium=feed");
            var html = new StringBuilder()
                .Append(CultureInfo.InvariantCulture, $"<p><b>NEW YORK, {published:MMM d HH:mm} ({feed.Name})</b> &#8212; {ticker.Name} said {subject} {verb} to ${amount} million, ")
                .Append(CultureInfo.InvariantCulture, $"a {change}% change, while peer <a href=\"https://{host}/quote/{other.Symbol}\">{other.Name}</a> traded flat.</p>")
                .Append(CultureInfo.InvariantCulture, $"<p>{Phrases[random.Next(Phrases.Length)]} {Phrases[random.Next(Phrases.Length)]}</p>")
                .Append(CultureInfo.InvariantCulture, $"<ul><li>Ticker: {ticker.Symbol}</li><li>Exchange: {ticker.Exchange}</li></ul>")
                .Append("<img src=\"https://").Append(host).Append("/img/chart.png\" alt=\"chart\"/>")
                .ToString();
            sb.Append("<item><title>").Append(SecurityElement.Escape(title)).Append("</title><link>").Append(SecurityElement.Escape(link)).Append("</link>")
                .Append("<guid isPermaLink=\"false\">").Append(CultureInfo.InvariantCulture, $"{host}:{i}").Append("</guid>")
                .Append("<pubDate>").Append(published.ToString("r", CultureInfo.InvariantCulture)).Append("</pubDate>")
                .Append("<dc:creator>Staff Reporter</dc:creator><category>Markets</category><category>")
                .Append(ticker.Symbol).Append("</category><description>");
            if (i % 2 == 0)
            {
                sb.Append(SecurityElement.Escape(html));
            }
            else
            {
                sb.Append("<![CDATA[").Append(html).Append("]]>");
            }

            sb.Append("</description></item>\n");
        }

        sb.Append("</channel></rss>\n");
        return Encoding.UTF8.GetBytes(sb.ToString());
    }
}
