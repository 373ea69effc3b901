using System.Diagnostics;
using FinNews.Core.Feeds;
using FinNews.Core.Search.Evaluation;

namespace FinNews.Bench;

/// <summary>
/// Feed parse throughput (<see cref="FeedParser.Parse(ReadOnlySpan{byte}, string?, Uri?)"/>) over the shared feed
/// corpora and the bundled samples, plus the time <see cref="ArticleNormalizer"/> adds on top. Files are read into
/// memory first, so no I/O is timed.
/// </summary>
internal static class ParseBench
{
    public static void Run(int runs, int warmup, string? corpusFolder)
    {
        var root = RepoPaths.Root();
        var corpus = corpusFolder ?? Path.GetFullPath(Path.Combine(root, "..", "shared", "corpora", "feeds"));
        var normalizer = new ArticleNormalizer(new TickerTagger(Watchlist.Load(Path.Combine(root, "config", "watchlist.json"))));
        Console.WriteLine(RepoPaths.Machine());

        var corpusFiles = Load(Directory.EnumerateFiles(corpus, "*", SearchOption.AllDirectories)
            .Where(f => !f.EndsWith(".json", StringComparison.OrdinalIgnoreCase) && !f.EndsWith(".md", StringComparison.OrdinalIgnoreCase)));
        var sampleFiles = Load(Directory.EnumerateFiles(Path.Combine(root, "config", "samples"), "*.xml")
            .Where(f => !f.Contains(".malformed.", StringComparison.OrdinalIgnoreCase)));

        Measure($"corpora ({corpus})", corpusFiles, 1, runs, warmup, normalizer);
        // The samples are small; repeat them inside a run so one run parses about as many bytes as a corpora pass.
        var repeat = Math.Max(1, (int)(corpusFiles.Sum(f => (long)f.Bytes.Length) / Math.Max(1, sampleFiles.Sum(f => (long)f.Bytes.Length))));
        Measure("samples (config/samples/*.xml minus *.malformed.xml)", sampleFiles, repeat, runs, warmup, normalizer);
    }

    private static List<(string Name, byte[] Bytes)> Load(IEnumerable<string> files) =>
        [.. files.Order(StringComparer.Ordinal).Select(f => (Path.GetFileName(f), File.ReadAllBytes(f)))];

    private static void Measure(string label, List<(string Name, byte[] Bytes)> files, int repeat, int runs, int warmup, ArticleNormalizer normalizer)
    {
        var feed = new FeedDefinition("bench", "Bench", "https://bench.test/feed");
        var seen = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

        // One untimed pass to find the files the parser rejects (reported, then left out of every timed pass).
        var good = new List<(string Name, byte[] Bytes)>();
        foreach (var file in files)
        {
            try
            {
                FeedParser.Parse(file.Bytes);
                good.Add(file);
            }
            catch (FeedParseException ex)
            {
                Console.WriteLine(RepoPaths.I($"  skipped {file.Name}: {ex.Message}"));
            }
        }

        long bytesPerPass = 0, itemsPerPass = 0, articlesPerPass = 0;
        var mbPerSecond = new List<double>(runs);
        var itemsPerSecond = new List<double>(runs);
        var pipelineItemsPerSecond = new List<double>(runs);
        var normalizeShare = new List<double>(runs);
        for (var run = -warmup; run < runs; run++)
        {
            long bytes = 0, items = 0, articles = 0;
            var parseTicks = 0L;
            var normalizeTicks = 0L;
            for (var r = 0; r < repeat; r++)
            {
                foreach (var file in good)
                {
                    var start = Stopwatch.GetTimestamp();
                    var parsed = FeedParser.Parse(file.Bytes);
                    var parsedAt = Stopwatch.GetTimestamp();
                    foreach (var item in parsed.Items)
                    {
                        if (normalizer.Normalize(item, feed, feed.Name, seen) is not null)
                        {
                            articles++;
                        }
                    }

                    normalizeTicks += Stopwatch.GetTimestamp() - parsedAt;
                    parseTicks += parsedAt - start;
                    bytes += file.Bytes.Length;
                    items += parsed.Items.Count;
                }
            }

            if (run < 0)
            {
                continue;
            }

            (bytesPerPass, itemsPerPass, articlesPerPass) = (bytes, items, articles);
            var parseSeconds = (double)parseTicks / Stopwatch.Frequency;
            var normalizeSeconds = (double)normalizeTicks / Stopwatch.Frequency;
            mbPerSecond.Add(bytes / 1e6 / parseSeconds);
            itemsPerSecond.Add(items / parseSeconds);
            pipelineItemsPerSecond.Add(items / (parseSeconds + normalizeSeconds));
            normalizeShare.Add(100 * normalizeSeconds / (parseSeconds + normalizeSeconds));
        }

        Console.WriteLine(RepoPaths.I($"{label}  (p95 = the 95th-percentile-slowest run, i.e. the 5th percentile of the rates)"));
        Console.WriteLine(RepoPaths.I(
            $"  {good.Count} files × {repeat} per run = {bytesPerPass / 1e6:F2} MB, {itemsPerPass:N0} items ({articlesPerPass:N0} articles) per run; {runs} runs after {warmup} warm-up"));
        Console.WriteLine(RepoPaths.I(
            $"  parse only:        MB/s median {Median(mbPerSecond):F1}, p95 {Slow(mbPerSecond):F1} (min {mbPerSecond.Min():F1}, max {mbPerSecond.Max():F1})"));
        Console.WriteLine(RepoPaths.I(
            $"  parse only:        items/s median {Median(itemsPerSecond):N0}, p95 {Slow(itemsPerSecond):N0}"));
        Console.WriteLine(RepoPaths.I(
            $"  parse + normalize: items/s median {Median(pipelineItemsPerSecond):N0}, p95 {Slow(pipelineItemsPerSecond):N0}; normalize = {Median(normalizeShare):F1} % of the time (median)"));
        Console.WriteLine(RepoPaths.I($"  loadavg now: {RepoPaths.LoadAverage()}"));
    }

    private static double Median(List<double> values) => RetrievalMetrics.Percentile(values, 50);

    /// <summary>The p95 run expressed as a rate: the run time at the 95th percentile is the rate at the 5th.</summary>
    private static double Slow(List<double> rates) => RetrievalMetrics.Percentile(rates, 5);
}

/// <summary>Repository paths and machine conditions for the bench reports.</summary>
internal static class RepoPaths
{
    /// <summary>The folder holding FinNews.sln, searched upwards from the working directory, then from the binary.</summary>
    public static string Root()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "FinNews.sln")))
                {
                    return dir.FullName;
                }
            }
        }

        throw new DirectoryNotFoundException("FinNews.sln not found above the working directory or the bench binary.");
    }

    public static string LoadAverage()
    {
        try
        {
            return File.ReadAllText("/proc/loadavg").Trim();
        }
        catch (IOException)
        {
            return "n/a";
        }
    }

    public static string Machine() =>
        I($"nproc {Environment.ProcessorCount}, {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}, {(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")} GC, loadavg {LoadAverage()}");

    public static string I(FormattableString text) => FormattableString.Invariant(text);
}
