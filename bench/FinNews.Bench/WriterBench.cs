using System.Diagnostics;
using System.Globalization;
using FinNews.Core.Briefing;
using FinNews.Core.Feeds;
using FinNews.Core.Market;
using FinNews.Core.Models;
using FinNews.Core.Search;
using FinNews.Core.Storage.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace FinNews.Bench;

/// <summary>
/// `writer`: the LLM writer's cost on the bundled sample day without a model. The real composer plans the briefing
/// (retrieval, clusters, markets) through a recording writer; per section, the prompt the LLM writer would send is
/// built with its own numbering and fencing and sized (chars / 4, as the writer estimates), and the citation validator
/// checks the extractive bullets against those sources, timed per briefing over repeated runs.
/// </summary>
internal static class WriterBench
{
    /// <summary>A fixed clock (2026-11-21 06:00 UTC, the morning after the bundled sample day): the bench is repeatable on any date.</summary>
    private static readonly ModelTokenizer O200k = ModelTokenizer.For("gpt-4o-mini");
    private static readonly ModelTokenizer Cl100k = ModelTokenizer.For("gpt-4");
    private static readonly ModelTokenizer Estimate = ModelTokenizer.For("local-model");

    /// <summary>A fixed clock (2026-11-21 06:00 UTC, the morning after the bundled sample day): the bench is repeatable on any date.</summary>
    internal static readonly TimeProvider Clock = new FixedClock(new DateTimeOffset(2026, 11, 21, 6, 0, 0, TimeSpan.Zero));

    private static readonly TimeProvider MorningAfterSamples = new FixedClock(new DateTimeOffset(2026, 11, 21, 6, 0, 0, TimeSpan.Zero));

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    public static async Task RunAsync(int runs, string dir)
    {
        var (store, index, watchlist) = await SamplesAsync(dir);
        using var indexScope = index;
        var recorder = new RecordingWriter();
        var options = new BriefingOptions { LookbackHours = 36 };
        var composer = new BriefingComposer(store, store, store, index, recorder, watchlist, options, MorningAfterSamples, NullLogger<BriefingComposer>.Instance);
        // The morning after the sample day: the same briefing material on every run, whatever the date.
        await composer.ComposeAsync();

        var validator = new CitationValidator(watchlist.Tickers.Select(t => t.Symbol));
        var sections = recorder.Material.Select(m =>
        {
            var sources = LlmWriter.NumberSources(m);
            var prompt = LlmWriter.SystemPrompt + "\n" + LlmWriter.FenceSources(m, sources);
            var chat = new[] { ("system", LlmWriter.SystemPrompt), ("user", PromptLibrary.Text("section") + m.Title + LlmWriter.FenceSources(m, sources) + PromptLibrary.Text("format-json")) };
            var byKey = sources.ToDictionary(s => s.Key, s => s.Number, StringComparer.Ordinal);
            var draft = recorder.Drafts.Single(d => d.Key == m.Key);
            var bullets = draft.Bullets.Select(b => new ProposedBullet(b.Headline, b.Text,
                b.SourceKeys.Where(byKey.ContainsKey).Select(k => byKey[k]).ToList(), [])).ToList();
            return (m.Key, Sources: sources, PromptChars: prompt.Length, Tokens: O200k.CountChat(chat), Cl100k: Cl100k.CountChat(chat), Estimate: Estimate.CountChat(chat), Bullets: bullets,
                SourceMap: sources.ToDictionary(s => s.Number));
        }).ToList();

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"loadavg at start: {File.ReadAllText("/proc/loadavg").Trim()}"));
        Console.WriteLine("section      sources  bullets  prompt chars  o200k tokens  cl100k tokens  chars/4 estimate");
        foreach (var s in sections)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{s.Key,-12} {s.Sources.Count,7} {s.Bullets.Count,8} {s.PromptChars,13} {s.Tokens,13} {s.Cl100k,14} {s.Estimate,17}"));
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{"total",-12} {sections.Sum(s => s.Sources.Count),7} {sections.Sum(s => s.Bullets.Count),8} {sections.Sum(s => s.PromptChars),13} {sections.Sum(s => s.Tokens),13} {sections.Sum(s => s.Cl100k),14} {sections.Sum(s => s.Estimate),17}"));
        await ScriptedModel.WriterRunAsync(recorder.Material, validator, runs: Math.Min(runs, 20));

        // Validator time per briefing: every section's bullets validated once = one briefing.
        var times = new List<double>(runs);
        var violations = 0;
        for (var r = 0; r < runs + 5; r++)
        {
            var watch = Stopwatch.StartNew();
            violations = 0;
            foreach (var s in sections)
            {
                violations += validator.Validate(s.Bullets, s.SourceMap).Checks.Count(c => !c.Passed);
            }

            watch.Stop();
            if (r >= 5)
            {
                times.Add(watch.Elapsed.TotalMilliseconds);
            }
        }

        times.Sort();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"validator per briefing ({sections.Sum(s => s.Bullets.Count)} statements, {runs} runs after 5 warm-up): p50 {times[times.Count / 2]:0.000} ms, p95 {times[(int)(times.Count * 0.95)]:0.000} ms; statements failing: {violations}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"loadavg at end: {File.ReadAllText("/proc/loadavg").Trim()}"));
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
    }

    /// <summary>The bundled sample day ingested, indexed and its bars loaded into a fresh folder.</summary>
    internal static async Task<(SqliteStore Store, SqliteSearchIndex Index, Watchlist Watchlist)> SamplesAsync(string dir)
    {
        var repo = RepoRoot();
        var config = Path.Combine(repo, "config");
        if (Directory.Exists(dir))
        {
            Directory.Delete(dir, recursive: true);
        }

        Directory.CreateDirectory(dir);
        var store = new SqliteStore(Path.Combine(dir, "finnews.db"));
        store.Initialize();
        var watchlist = Watchlist.Load(Path.Combine(config, "watchlist.json"));
        using var http = new HttpClient(FeedFetcher.CreateHandler());
        var ingestor = new FeedIngestor(new FeedFetcher(http, new FetchOptions(), config), new ArticleNormalizer(new TickerTagger(watchlist)),
            store, store, MorningAfterSamples, NullLogger<FeedIngestor>.Instance);
        var feeds = FeedList.Load(Path.Combine(config, "feeds.json")).Feeds.Where(f => f.Sample).ToList();
        await ingestor.IngestAsync(feeds, null, CancellationToken.None);
        store.UpsertBars(BarQualityChecker.Check(OhlcvCsv.Read(Path.Combine(config, "samples", "market", "bars.csv"), "sample")));
        var index = new SqliteSearchIndex(store.ConnectionString, new HashingEmbedder(), "hashing");
        await new SearchIndexer(store, index, NullLogger<SearchIndexer>.Instance).DrainAsync();

        return (store, index, watchlist);
    }

    internal static string RepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "FinNews.sln")))
            {
                return d.FullName;
            }
        }

        throw new InvalidOperationException("FinNews.sln not found");
    }

    private sealed class RecordingWriter : IBriefingWriter
    {
        private readonly ExtractiveWriter _inner = new();

        public string Name => "recording";

        public IReadOnlyList<SectionMaterial> Material { get; private set; } = [];

        public IReadOnlyList<DraftSection> Drafts { get; private set; } = [];

        public async Task<IReadOnlyList<DraftSection>> WriteAsync(IReadOnlyList<SectionMaterial> material, CancellationToken cancellationToken)
        {
            Material = material;
            Drafts = await _inner.WriteAsync(material, cancellationToken);
            return Drafts;
        }
    }
}
