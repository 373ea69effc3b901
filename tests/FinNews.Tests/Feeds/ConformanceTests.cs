using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using FinNews.Core.Feeds;
using Xunit.Abstractions;

namespace FinNews.Tests.Feeds;

/// <summary>
/// Compares the parser with rss-parser's recorded output for the real feeds in
/// ../shared/corpora/feeds/with-expected-output (see SOURCE.md there), item by item and field by field.
/// </summary>
/// <remarks>
/// Every remaining disagreement is a known deviation where rss-parser's recorded value is the wrong one; they count
/// against the rate all the same (last measured: 800/836 = 95.69 %):
/// <list type="bullet">
/// <item>craigslist.rss (RSS 1.0), guid, 25 items: rss-parser has no guid for RDF items; we use rdf:about, the RSS 1.0
/// identifier (requirement: guid, atom:id or rdf:about → Id).</item>
/// <item>uolNoticias.rss, title, 11 items: ISO-8859-1 bytes with no declaration. rss-parser decoded them as UTF-8 and
/// recorded U+FFFD for every accented letter; we detect the invalid UTF-8 and read windows-1252 ("simulações").</item>
/// </list>
/// uolNoticias dates ("Seg, 24 Set 2018", Portuguese names) are null on both sides: month names are English, Greek and
/// Hungarian only (feedparser's set), and such a date is flagged unreadable, never guessed.
/// </remarks>
public class ConformanceTests(ITestOutputHelper output)
{
    private static readonly string[] Fields = ["title", "link", "guid", "isoDate"];

    private static string ExpectedDir => Path.Combine(TestPaths.SharedCorpora, "feeds", "with-expected-output");

    [Fact]
    public void Agreement_with_rss_parser_is_at_least_95_percent()
    {
        var feeds = Directory.GetFiles(ExpectedDir)
            .Where(f => !f.EndsWith(".json", StringComparison.Ordinal) && !f.EndsWith(".md", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .ToList();
        feeds.Should().HaveCount(10);

        var totals = Fields.ToDictionary(f => f, _ => (Agree: 0, Total: 0));
        var table = new StringBuilder();
        table.AppendLine(CultureInfo.InvariantCulture, $"{"file",-22} {"items",5} {"title",9} {"link",9} {"guid",9} {"isoDate",9}");
        var disagreements = new StringBuilder();
        (int Agree, int Total) rawTitles = (0, 0);

        foreach (var feedPath in feeds)
        {
            var name = Path.GetFileName(feedPath);
            var expectedPath = Path.Combine(ExpectedDir, Path.GetFileNameWithoutExtension(feedPath) + ".expected.json");
            var expected = ReadExpectedItems(expectedPath);
            var actual = FeedParser.Parse(File.ReadAllBytes(feedPath)).Items;

            var perFile = Fields.ToDictionary(f => f, _ => 0);
            for (var i = 0; i < Math.Min(expected.Count, actual.Count); i++)
            {
                rawTitles.Total++;
                rawTitles.Agree += string.Equals(Str(expected[i], "title")?.Trim(), actual[i].Title, StringComparison.Ordinal) ? 1 : 0;
            }

            var count = Math.Max(expected.Count, actual.Count);
            for (var i = 0; i < count; i++)
            {
                var e = i < expected.Count ? expected[i] : (JsonElement?)null;
                var a = i < actual.Count ? actual[i] : null;
                foreach (var field in Fields)
                {
                    var (ok, exp, act) = Compare(field, e, a);
                    if (ok)
                    {
                        perFile[field]++;
                    }
                    else
                    {
                        disagreements.AppendLine(CultureInfo.InvariantCulture, $"{name}[{i}].{field}: expected {exp} | ours {act}");
                    }
                }
            }

            foreach (var field in Fields)
            {
                totals[field] = (totals[field].Agree + perFile[field], totals[field].Total + count);
            }

            table.AppendLine(CultureInfo.InvariantCulture, $"{name,-22} {count,5} {Cell(perFile["title"], count),9} {Cell(perFile["link"], count),9} {Cell(perFile["guid"], count),9} {Cell(perFile["isoDate"], count),9}");
        }

        var agree = totals.Values.Sum(t => t.Agree);
        var total = totals.Values.Sum(t => t.Total);
        var overall = (double)agree / total;
        table.AppendLine(CultureInfo.InvariantCulture, $"{"per field",-22} {totals["title"].Total,5} {Rate(totals["title"]),9} {Rate(totals["link"]),9} {Rate(totals["guid"]),9} {Rate(totals["isoDate"]),9}");
        table.AppendLine(CultureInfo.InvariantCulture, $"overall: {agree}/{total} = {overall:P2}");
        output.WriteLine(table.ToString());
        output.WriteLine("Disagreements:");
        output.WriteLine(disagreements.ToString());

        output.WriteLine($"raw title strings equal: {rawTitles.Agree}/{rawTitles.Total}");

        // 800/836: every remaining disagreement is one of the known deviations listed above.
        overall.Should().BeGreaterThanOrEqualTo(800.0 / 836);
    }

    private static string Cell(int agree, int total) => total == 0 ? "-" : $"{agree}/{total}";

    private static string Rate((int Agree, int Total) t) => t.Total == 0 ? "-" : ((double)t.Agree / t.Total).ToString("P1", CultureInfo.InvariantCulture);

    private static (bool Ok, string? Expected, string? Actual) Compare(string field, JsonElement? expectedItem, ParsedItem? actual)
    {
        if (expectedItem is null || actual is null)
        {
            return (false, expectedItem is null ? "<no item>" : "<item>", actual is null ? "<no item>" : "<item>");
        }

        var e = expectedItem.Value;
        switch (field)
        {
            case "title":
                // Our titles are plain text (markup stripped, entities decoded, whitespace collapsed), rss-parser's are
                // the raw element text: compared as a reader sees them, i.e. rss-parser's made plain the same way.
                // RawTitleAgreement below reports the string-for-string rate as well.
                return Same(Str(e, "title") is { } t ? HtmlText.TitleText(t) : null, actual.Title);
            case "link":
                return Same(Str(e, "link")?.Trim(), actual.Link);
            case "guid":
                // rss-parser reports RSS <guid> as "guid" and Atom <id> as "id"; both are our Id.
                return Same((Str(e, "guid") ?? Str(e, "id"))?.Trim(), actual.Id);
            default:
                var iso = Str(e, "isoDate");
                var expectedInstant = iso is null ? (DateTimeOffset?)null : DateTimeOffset.Parse(iso, CultureInfo.InvariantCulture);
                var ours = actual.Published ?? actual.Updated;
                var ok = Nullable.Equals(Truncate(expectedInstant), Truncate(ours));
                return (ok, iso, ours?.ToString("O", CultureInfo.InvariantCulture));
        }
    }

    // rss-parser's isoDate carries milliseconds; compare at that precision.
    private static DateTimeOffset? Truncate(DateTimeOffset? value) =>
        value is null ? null : new DateTimeOffset(value.Value.UtcTicks - (value.Value.UtcTicks % TimeSpan.TicksPerMillisecond), TimeSpan.Zero);

    private static (bool, string?, string?) Same(string? expected, string? actual) =>
        (string.Equals(string.IsNullOrEmpty(expected) ? null : expected, actual, StringComparison.Ordinal), expected, actual);

    private static string? Str(JsonElement item, string name)
    {
        if (!item.TryGetProperty(name, out var value))
        {
            return null;
        }

        return value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),

            // xml2js keeps attributes beside the text as {"_": text, "$": {…}}.
            JsonValueKind.Object when value.TryGetProperty("_", out var text) => text.GetString(),
            _ => null,
        };
    }

    internal static List<JsonElement> ReadExpectedItems(string path)
    {
        // encoding.expected.json was written in ISO-8859-1 by its producer; everything else is UTF-8.
        var bytes = File.ReadAllBytes(path);
        var json = Utf8.IsValid(bytes) ? Encoding.UTF8.GetString(bytes) : Encoding.Latin1.GetString(bytes);
        using var doc = JsonDocument.Parse(json);
        return doc.RootElement.GetProperty("feed").GetProperty("items").EnumerateArray().Select(e => e.Clone()).ToList();
    }
}
