using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using FinNews.Core.Feeds;
using FinNews.Core.Search.Evaluation;
using FeedReaderLib = CodeHollow.FeedReader.FeedReader;

namespace FinNews.Bench;

/// <summary>
/// FeedParser side by side with CodeHollow.FeedReader on the same files: parse throughput (what bench/peers/run.sh
/// compares with python feedparser and node rss-parser) and field agreement with rss-parser's recorded outputs.
/// </summary>
/// <remarks>
/// Both parsers get the file's bytes (FeedReader.ReadFromByteArray does its own charset detection, as FeedParser does),
/// and both are timed from bytes to their own item model: no normalization, sanitizing or plain-text conversion, which
/// either core would need on top. Output is one JSON object per parser so the peers script can merge it with the
/// Python and Node runners.
/// </remarks>
internal static class PeersBench
{
    private static readonly Dictionary<string, Func<byte[], int>> Parsers = new(StringComparer.Ordinal)
    {
        ["finnews"] = bytes => FeedParser.Parse(bytes).Items.Count,
        ["feedreader"] = bytes => FeedReaderLib.ReadFromByteArray(bytes).Items.Count,
    };

    /// <summary>
    /// `peers --list FILE [--probe] [--runs N] [--warmup N]`: probe which files each parser reads, or time them. Timed
    /// passes alternate between the parsers (FeedParser, FeedReader, FeedParser, …), so load that comes and goes on a
    /// shared machine weighs on both alike.
    /// </summary>
    public static void Run(string listFile, bool probe, int runs, int warmup)
    {
        var files = File.ReadAllLines(listFile).Where(l => l.Length > 0).Select(f => (Path: f, Bytes: File.ReadAllBytes(f))).ToList();
        if (probe)
        {
            foreach (var (name, parse) in Parsers)
            {
                var ok = new List<string>();
                var failed = new List<string>();
                foreach (var file in files)
                {
                    try
                    {
                        parse(file.Bytes);
                        ok.Add(file.Path);
                    }
#pragma warning disable CA1031 // A peer library may throw anything (FeedReader: NullReferenceException); that is the finding.
                    catch (Exception ex)
#pragma warning restore CA1031
                    {
                        failed.Add($"{Path.GetFileName(file.Path)}: {ex.GetType().Name}");
                    }
                }

                Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object> { ["parser"] = name, ["ok"] = ok, ["failed"] = failed }));
            }

            return;
        }

        var parsers = Parsers.ToList();
        var mbps = parsers.Select(_ => new List<double>()).ToList();
        var itemsPerSecond = parsers.Select(_ => new List<double>()).ToList();
        var items = new long[parsers.Count];
        long bytes = files.Sum(f => (long)f.Bytes.Length);
        for (var run = -warmup; run < runs; run++)
        {
            for (var p = 0; p < parsers.Count; p++)
            {
                items[p] = 0;
                var start = Stopwatch.GetTimestamp();
                foreach (var file in files)
                {
                    items[p] += parsers[p].Value(file.Bytes);
                }

                var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
                if (run >= 0)
                {
                    mbps[p].Add(bytes / 1e6 / seconds);
                    itemsPerSecond[p].Add(items[p] / seconds);
                }
            }
        }

        for (var p = 0; p < parsers.Count; p++)
        {
            Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["parser"] = parsers[p].Key,
                ["files"] = files.Count,
                ["bytes"] = bytes,
                ["items"] = items[p],
                ["runs"] = runs,
                ["mbps"] = Math.Round(RetrievalMetrics.Percentile(mbps[p], 50), 2),
                ["items_per_s"] = Math.Round(RetrievalMetrics.Percentile(itemsPerSecond[p], 50), 0),
            }));
        }
    }

    /// <summary>
    /// `phases --list FILE`: where FeedParser's time goes (decode, XML tree, readers, repair) next to FeedReader. The
    /// steps take turns pass by pass, so a load that comes and goes on a shared machine weighs on all of them alike.
    /// </summary>
    public static void Phases(string listFile, int runs)
    {
        var files = File.ReadAllLines(listFile).Where(l => l.Length > 0).Select(File.ReadAllBytes).ToList();
        var trees = files.Select(b => FeedParser.Load(FeedCharset.Decode(b, null).TrimStart())).ToList();
        var parsed = files.Select(b => FeedParser.Parse(b)).ToList();
        string[] dateNames = ["pubDate", "date", "updated", "published", "lastBuildDate", "issued", "modified", "created"];
        var dates = trees.Select(t => t.Descendants().Where(e => dateNames.Contains(e.Name.LocalName) && !e.HasElements).Select(e => e.Value).ToList()).ToList();
        var titles = trees.Select(t => t.Descendants().Where(e => e.Name.LocalName == "title").Select(e => e.Value).ToList()).ToList();
        var markup = trees.Select(t => t.Descendants().Where(e => e.Name.LocalName is "description" or "content" or "summary" or "encoded" && e.HasElements).ToList()).ToList();
        var itemsOf = trees.Select(t => t.Descendants().Where(e => e.Name.LocalName is "item" or "entry").ToList()).ToList();
        var steps = new (string Name, Action<int> Step)[]
        {
            ("decode", i => FeedCharset.Decode(files[i], null)),
            ("decode + XDocument.Parse", i => System.Xml.Linq.XDocument.Parse(FeedCharset.Decode(files[i], null))),
            ("decode + FeedParser.Load (tree + limits)", i => FeedParser.Load(FeedCharset.Decode(files[i], null).TrimStart())),
            ("readers on a loaded tree", i => Read(trees[i].Root!)),
            ("mojibake check of every item's text", i => _ = parsed[i].Items.Sum(x => FeedRepair.FixMojibake(x.Title ?? "").Length + FeedRepair.FixMojibake(x.Summary ?? "").Length + FeedRepair.FixMojibake(x.Content ?? "").Length)),
            ("  of which: every date element read", i => _ = dates[i].Sum(d => FeedDates.Read(d).Value?.Second ?? 0)),
            ("  of which: every title made plain", i => _ = titles[i].Sum(t => HtmlText.TitleText(t).Length)),
            ("  of which: inner XML of fields with markup", i => _ = markup[i].Sum(e => FeedXml.InnerXml(e).Length)),
            ("  of which: xml:base lookup per item", i => _ = itemsOf[i].Count(e => FeedXml.BaseFor(e, null) is not null)),
            ("FeedParser.Parse", i => FeedParser.Parse(files[i])),
            ("FeedReader.ReadFromByteArray", i => FeedReaderLib.ReadFromByteArray(files[i])),
        };
        var times = steps.Select(_ => new List<double>()).ToList();
        for (var run = -3; run < runs; run++)
        {
            for (var s = 0; s < steps.Length; s++)
            {
                var start = Stopwatch.GetTimestamp();
                for (var i = 0; i < files.Count; i++)
                {
                    steps[s].Step(i);
                }

                if (run >= 0)
                {
                    times[s].Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                }
            }
        }

        for (var s = 0; s < steps.Length; s++)
        {
            Console.WriteLine(RepoPaths.I($"{steps[s].Name,-45} median {RetrievalMetrics.Percentile(times[s], 50),8:F1} ms per pass"));
        }

        static object Read(System.Xml.Linq.XElement root) => root.Name.LocalName switch
        {
            "rss" => RssFeedReader.ReadRss(root, null),
            "RDF" => RssFeedReader.ReadRdf(root, null),
            _ => AtomFeedReader.Read(root, null),
        };
    }

    /// <summary>
    /// `conformance [--folder DIR]`: title, link, guid and isoDate of every item against rss-parser's expected outputs,
    /// for FeedParser and FeedReader, compared as tests/FinNews.Tests/Feeds/ConformanceTests.cs compares them (titles as
    /// plain text, dates as instants); plus, over the whole corpus, how many items each gives a date and an author.
    /// </summary>
    public static void Conformance(string? folder)
    {
        var root = RepoPaths.Root();
        var corpus = folder ?? Path.GetFullPath(Path.Combine(root, "..", "shared", "corpora", "feeds"));
        var expectedDir = Path.Combine(corpus, "with-expected-output");
        string[] fields = ["title", "link", "guid", "isoDate"];
        var peers = new (string Name, Func<byte[], List<(string? Title, string? Link, string? Id, DateTimeOffset? Date, bool Author)>> Read)[]
        {
            ("finnews", b => [.. FeedParser.Parse(b).Items.Select(i => (i.Title, i.Link, i.Id, i.Published ?? i.Updated, i.Authors.Count > 0))]),
            ("feedreader", b => [.. FeedReaderLib.ReadFromByteArray(b).Items.Select(i => (i.Title, i.Link, i.Id,
                i.PublishingDate is { } d ? new DateTimeOffset(DateTime.SpecifyKind(d, DateTimeKind.Utc)) : (DateTimeOffset?)null, !string.IsNullOrWhiteSpace(i.Author)))]),
        };

        Console.WriteLine($"{"parser",-11} {"title",9} {"link",9} {"guid",9} {"isoDate",9} {"overall",15}  | corpus: files read, items, with date, with author");
        foreach (var (name, read) in peers)
        {
            var agree = fields.ToDictionary(f => f, _ => 0);
            var total = 0;
            foreach (var feedPath in Directory.GetFiles(expectedDir).Where(f => !f.EndsWith(".json", StringComparison.Ordinal) && !f.EndsWith(".md", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
            {
                var expected = ReadExpected(Path.Combine(expectedDir, Path.GetFileNameWithoutExtension(feedPath) + ".expected.json"));
                List<(string? Title, string? Link, string? Id, DateTimeOffset? Date, bool Author)> actual;
                try
                {
                    actual = read(File.ReadAllBytes(feedPath));
                }
#pragma warning disable CA1031 // A file a peer cannot read counts as disagreement on every field, not as a crash of the bench.
                catch (Exception)
#pragma warning restore CA1031
                {
                    actual = [];
                }

                var count = Math.Max(expected.Count, actual.Count);
                total += count;
                for (var i = 0; i < Math.Min(expected.Count, actual.Count); i++)
                {
                    var e = expected[i];
                    var a = actual[i];
                    agree["title"] += Same(Str(e, "title") is { } t ? HtmlText.TitleText(t) : null, a.Title is null ? null : HtmlText.TitleText(a.Title)) ? 1 : 0;
                    agree["link"] += Same(Str(e, "link")?.Trim(), a.Link?.Trim()) ? 1 : 0;
                    agree["guid"] += Same((Str(e, "guid") ?? Str(e, "id"))?.Trim(), a.Id?.Trim()) ? 1 : 0;
                    var iso = Str(e, "isoDate");
                    var expectedDate = iso is null ? (DateTimeOffset?)null : DateTimeOffset.Parse(iso, CultureInfo.InvariantCulture);
                    agree["isoDate"] += Nullable.Equals(Millis(expectedDate), Millis(a.Date)) ? 1 : 0;
                }
            }

            var (filesRead, items, dated, authored) = (0, 0, 0, 0);
            foreach (var file in Directory.EnumerateFiles(corpus, "*", SearchOption.AllDirectories)
                         .Where(f => !f.EndsWith(".json", StringComparison.OrdinalIgnoreCase) && !f.EndsWith(".md", StringComparison.OrdinalIgnoreCase)))
            {
                try
                {
                    var parsed = read(File.ReadAllBytes(file));
                    filesRead++;
                    items += parsed.Count;
                    dated += parsed.Count(p => p.Date is not null);
                    authored += parsed.Count(p => p.Author);
                }
#pragma warning disable CA1031 // Counted as a file the peer cannot read.
                catch (Exception)
#pragma warning restore CA1031
                {
                }
            }

            var sum = agree.Values.Sum();
            Console.WriteLine(RepoPaths.I(
                $"{name,-11} {Rate(agree["title"], total),9} {Rate(agree["link"], total),9} {Rate(agree["guid"], total),9} {Rate(agree["isoDate"], total),9} {sum,6}/{4 * total} {100.0 * sum / (4 * total),5:F2} %  | {filesRead} files, {items} items, {dated} dated, {authored} with an author"));
        }

        static string Rate(int agree, int total) => RepoPaths.I($"{100.0 * agree / total:F1} %");
    }

    private static bool Same(string? expected, string? actual) =>
        string.Equals(string.IsNullOrEmpty(expected) ? null : expected, string.IsNullOrEmpty(actual) ? null : actual, StringComparison.Ordinal);

    private static DateTimeOffset? Millis(DateTimeOffset? value) =>
        value is null ? null : new DateTimeOffset(value.Value.UtcTicks - (value.Value.UtcTicks % TimeSpan.TicksPerMillisecond), TimeSpan.Zero);

    private static string? Str(JsonElement item, string name) =>
        !item.TryGetProperty(name, out var value) ? null
        : value.ValueKind == JsonValueKind.String ? value.GetString()
        : value.ValueKind == JsonValueKind.Object && value.TryGetProperty("_", out var text) ? text.GetString()
        : null;

    private static List<JsonElement> ReadExpected(string path)
    {
        // encoding.expected.json was written in ISO-8859-1 by its producer; everything else is UTF-8.
        var bytes = File.ReadAllBytes(path);
        var json = Utf8.IsValid(bytes) ? Encoding.UTF8.GetString(bytes) : Encoding.Latin1.GetString(bytes);
        using var doc = JsonDocument.Parse(json);
        return [.. doc.RootElement.GetProperty("feed").GetProperty("items").EnumerateArray().Select(e => e.Clone())];
    }
}
