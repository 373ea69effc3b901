using System.Diagnostics;
using System.Globalization;
using FinNews.Core.Feeds;
using FinNews.Core.Search;
using FinNews.Core.Search.Evaluation;
using Microsoft.Data.Sqlite;

namespace FinNews.Bench;

/// <summary>
/// Hybrid search through the real <see cref="SqliteSearchIndex"/> (FTS5 + vector scan + RRF) over synthetic articles:
/// one chunk each (title + summary), Zipf-distributed words from a seeded vocabulary.
/// </summary>
internal static class HybridBench
{
    public static async Task RunAsync(int articles, int queries, string directory, bool reuse)
    {
        Console.WriteLine(RepoPaths.Machine());
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, $"bench-{articles}.db");
        var connectionString = new SqliteConnectionStringBuilder { DataSource = path }.ToString();
        using var embedder = new HashingEmbedder();
        var corpus = new SyntheticCorpus();
        if (reuse && File.Exists(path))
        {
            using var existing = new SqliteSearchIndex(connectionString, embedder, HashingEmbedder.ProviderName);
            if (await existing.CountAsync() == articles)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"reusing {path} ({articles:N0} chunks)"));
                corpus.Skip(articles); // the queries come after the documents in the seeded stream

                reuse = true;
            }
            else
            {
                reuse = false;
            }
        }
        else
        {
            reuse = false;
        }

        if (!reuse)
        {
            foreach (var suffix in new[] { string.Empty, "-wal", "-shm" })
            {
                File.Delete(path + suffix);
            }

            if (Directory.Exists(path + ".lucene"))
            {
                Directory.Delete(path + ".lucene", recursive: true);
            }

            await BuildAsync(connectionString, embedder, corpus, articles, path);
        }

        using var index = new SqliteSearchIndex(connectionString, embedder, HashingEmbedder.ProviderName);
        var initialize = Stopwatch.StartNew();
        await index.InitializeAsync(); // rebuilds the lexical index if it is of an older layout
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"initialized in {initialize.Elapsed.TotalSeconds:F1} s"));
        var chunks = await index.CountAsync();
        var texts = corpus.Queries(queries + 20);

        // Modes alternate query by query, so load on a shared machine weighs on all of them alike. "exact" forces the
        // plain float scan; the others use the table's choice (the 8-bit first pass above VectorTable.QuantizedThreshold).
        var modes = new (string Name, SearchMode Mode, bool? Quantized)[]
        {
            ("lexical", SearchMode.Lexical, null),
            ("vector", SearchMode.Vector, null),
            ("vector, exact scan", SearchMode.Vector, false),
            ("hybrid", SearchMode.Hybrid, null),
            ("hybrid, exact scan", SearchMode.Hybrid, false),
        };
        var times = modes.Select(_ => new List<double>(queries)).ToArray();
        for (var i = 0; i < 20 + queries; i++)
        {
            for (var m = 0; m < modes.Length; m++)
            {
                index.QuantizedVectorScan = modes[m].Quantized;
                var timer = Stopwatch.StartNew();
                await index.SearchAsync(new SearchQuery(texts[i], modes[m].Mode, 10)); // the first 20 warm up (and load the vector table)
                if (i >= 20)
                {
                    times[m].Add(timer.Elapsed.TotalMilliseconds);
                }
            }
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"lexical index: {index.LexicalSegments} segments"));
        for (var m = 0; m < modes.Length; m++)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{modes[m].Name,-20} at {chunks:N0} chunks, limit 10: p50 {RetrievalMetrics.Percentile(times[m], 50):F1} ms, p95 {RetrievalMetrics.Percentile(times[m], 95):F1} ms over {queries} queries"));
        }

        // Recall of the table's scan against the exact scan: the share of the exact top-N articles it also returns.
        foreach (var limit in new[] { 10, 100 })
        {
            double found = 0, identical = 0;
            for (var i = 20; i < 20 + queries; i++)
            {
                index.QuantizedVectorScan = false;
                var exact = (await index.SearchAsync(new SearchQuery(texts[i], SearchMode.Vector, limit))).Select(h => h.ArticleId).ToList();
                index.QuantizedVectorScan = null;
                var chosen = (await index.SearchAsync(new SearchQuery(texts[i], SearchMode.Vector, limit))).Select(h => h.ArticleId).ToList();
                found += exact.Count == 0 ? 1 : chosen.Intersect(exact).Count() / (double)exact.Count;
                identical += chosen.SequenceEqual(exact) ? 1 : 0;
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"vector recall@{limit} against the exact scan: {found / queries:F4} ({identical / queries:P0} of queries identical in order)"));
        }

        Console.WriteLine($"loadavg {RepoPaths.LoadAverage()}");
        SqliteConnection.ClearAllPools();
    }

    private static async Task BuildAsync(string connectionString, HashingEmbedder embedder, SyntheticCorpus corpus, int articles, string path)
    {
        using var index = new SqliteSearchIndex(connectionString, embedder, HashingEmbedder.ProviderName);
        await index.InitializeAsync();
        var published = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var build = Stopwatch.StartNew();
        var batchSize = SearchIndexer.DefaultBatchSize;
        for (var start = 0; start < articles; start += batchSize)
        {
            var batch = new List<Article>(batchSize);
            for (var i = start; i < Math.Min(articles, start + batchSize); i++)
            {
                var (title, summary) = corpus.NextDocument();
                batch.Add(new Article($"s{i}", "bench", "bench", title, $"https://bench.test/{i}", summary, string.Empty,
                    published.AddMinutes(i), published.AddMinutes(i), false, [], [], [], $"s{i}"));
            }

            await index.IndexAsync(batch);
            if ((start / batchSize) % 50 == 0)
            {
                Console.WriteLine($"  {start + batch.Count:N0} articles, {(start + batch.Count) / build.Elapsed.TotalSeconds:F0} chunks/s");
            }
        }

        index.Dispose(); // closing waits for Lucene's merges, which belong to the build
        build.Stop();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"indexed {articles:N0} chunks in {build.Elapsed.TotalSeconds:F1} s = {articles / build.Elapsed.TotalSeconds:F0} chunks/s (batches of {batchSize}); db {new FileInfo(path).Length / 1e6:F0} MB; loadavg {RepoPaths.LoadAverage()}"));
    }
}
