using FinNews.Core.Feeds;
using Xunit.Abstractions;

namespace FinNews.Tests.Feeds;

/// <summary>Every real-world document in ../shared/corpora/feeds parses, and the known ones parse to the expected shape.</summary>
public class CorpusTests(ITestOutputHelper output)
{
    private static string FeedsDir => Path.Combine(TestPaths.SharedCorpora, "feeds");

    public static TheoryData<string> AllFeedFiles()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.EnumerateFiles(FeedsDir, "*", SearchOption.AllDirectories)
                     .Where(f => !f.EndsWith(".json", StringComparison.OrdinalIgnoreCase) && !f.EndsWith(".md", StringComparison.OrdinalIgnoreCase))
                     .Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetRelativePath(FeedsDir, file));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(AllFeedFiles))]
    public void Every_corpus_feed_parses_into_titled_items_with_an_identity(string relativePath)
    {
        var feed = FeedParser.Parse(File.ReadAllBytes(Path.Combine(FeedsDir, relativePath)), baseUri: new Uri("https://feeds.example.test/feed.xml"));
        output.WriteLine($"{relativePath}: {feed.Format}, {feed.Items.Count} items, title \"{feed.Title}\"");

        feed.Title.Should().NotBeNullOrWhiteSpace();
        foreach (var item in feed.Items)
        {
            (item.Title ?? item.Summary).Should().NotBeNullOrWhiteSpace($"an item of {relativePath} has something to show");
            (item.Id ?? item.Link).Should().NotBeNullOrWhiteSpace($"an item of {relativePath} can be told apart from the others");
            if (item.Link is { } link)
            {
                Uri.TryCreate(link, UriKind.Absolute, out var uri).Should().BeTrue($"'{link}' resolves to an absolute URL");
                uri!.Scheme.Should().BeOneOf("http", "https");
            }
        }
    }

    [Theory]
    [InlineData("sec-edgar/edgar_company_filings_atom_CIK0001844419.xml", FeedFormat.Atom10, 5)]
    [InlineData("sec-edgar/edgar_company_filings_atom_CIK0001889983.xml", FeedFormat.Atom10, 55)]
    [InlineData("sec-edgar/edgar_xbrl_usgaap.rss", FeedFormat.Rss20, 200)]
    [InlineData("sec-edgar/sec_press_releases.rss", FeedFormat.Rss20, -1)]
    [InlineData("sec-edgar/sec_testimony.rss", FeedFormat.Rss20, -1)]
    [InlineData("news-mit/AtomTheVerge.xml", FeedFormat.Atom10, -1)]
    [InlineData("news-mit/AtomYoutubeInvestmentPunk.xml", FeedFormat.Atom10, -1)]
    [InlineData("news-mit/Rss091Stadtfeuerwehr.xml", FeedFormat.Rss091, -1)]
    [InlineData("news-mit/Rss10OrfAt.xml", FeedFormat.Rss10, -1)]
    [InlineData("news-mit/Rss20CTVNews.xml", FeedFormat.Rss20, -1)]
    [InlineData("news-mit/Rss20DailyMail.xml", FeedFormat.Rss20, 0)]
    [InlineData("news-mit/Rss20FazNet.xml", FeedFormat.Rss20, -1)]
    [InlineData("news-mit/Rss20FinanzenNet.xml", FeedFormat.Rss20, -1)]
    [InlineData("news-mit/Rss20ISO88591Intranet30.xml", FeedFormat.Rss20, -1)]
    [InlineData("news-mit/Rss20IndianExpress.xml", FeedFormat.Rss20, 200)]
    [InlineData("news-mit/Rss20NYTimes.xml", FeedFormat.Rss20, -1)]
    [InlineData("news-mit/Rss20Reuters.xml", FeedFormat.Rss20, -1)]
    [InlineData("news-mit/Rss20Spiegel.xml", FeedFormat.Rss20, -1)]
    public void Known_good_feed_parses_with_items(string relativePath, FeedFormat format, int expectedCount)
    {
        var feed = FeedParser.Parse(File.ReadAllBytes(Path.Combine(FeedsDir, relativePath)));

        feed.Format.Should().Be(format);
        feed.Title.Should().NotBeNullOrWhiteSpace();
        if (expectedCount >= 0)
        {
            // Rss20DailyMail is a genuinely empty channel (expected 0).
            feed.Items.Should().HaveCount(expectedCount);
        }
        else
        {
            feed.Items.Should().NotBeEmpty();
        }

        feed.Items.Where(i => i.Title == null && i.Summary == null).Should().BeEmpty();
        if (Mojibake.Contains(relativePath))
        {
            // Well-formed, but some text was UTF-8 decoded as windows-1252 before the feed was written: repaired and flagged.
            feed.Items.Should().Contain(i => i.Repaired);
            string.Concat(feed.Items.Select(i => i.Title + i.Summary + i.Content)).Should().NotContain("â€™").And.NotContain("Ã¼");
        }
        else
        {
            feed.Items.Where(i => i.Repaired).Should().BeEmpty("these feeds are well-formed and their text is clean");
        }
    }

    private static readonly HashSet<string> Mojibake = new(StringComparer.Ordinal)
    {
        "news-mit/AtomTheVerge.xml", "news-mit/Rss20CTVNews.xml", "news-mit/Rss20FazNet.xml", "news-mit/Rss20IndianExpress.xml", "news-mit/Rss20Spiegel.xml",
    };
}
