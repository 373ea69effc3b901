using FinNews.Core.Feeds;

namespace FinNews.Tests.Feeds;

/// <summary>
/// Story clusters on one real day of four outlets (NYT, Reuters, CTV, Indian Express in ../shared/corpora/feeds/news-mit,
/// 5-7 January 2017): copies of one event meet across outlets; events that only share a name and a theme stay apart.
/// </summary>
public class StoryClusteringTests
{
    private static readonly Lazy<IReadOnlyList<StoryCluster>> Day = new(() =>
    {
        var dir = Path.Combine(TestPaths.SharedCorpora, "feeds", "news-mit");
        var normalizer = new ArticleNormalizer(new TickerTagger(new Watchlist([])));
        var articles = new List<Article>();
        foreach (var (file, outlet) in new[] { ("Rss20NYTimes.xml", "NYT"), ("Rss20Reuters.xml", "Reuters"), ("Rss20CTVNews.xml", "CTV"), ("Rss20IndianExpress.xml", "Indian Express") })
        {
            var feed = FeedParser.Parse(File.ReadAllBytes(Path.Combine(dir, file)));
            var definition = new FeedDefinition(outlet.ToLowerInvariant().Replace(' ', '-'), outlet, $"https://{outlet.Replace(" ", "", StringComparison.Ordinal)}.example/feed");
            articles.AddRange(feed.Items.Select(i => normalizer.Normalize(i, definition, outlet, new DateTimeOffset(2017, 1, 8, 0, 0, 0, TimeSpan.Zero))).OfType<Article>());
        }

        return new StoryClusterer().Cluster(articles);
    });

    private static StoryCluster Story(string titleFragment) =>
        Day.Value.Single(c => c.Articles.Any(a => a.Title.Contains(titleFragment, StringComparison.Ordinal)));

    [Theory]
    [InlineData("Fort Lauderdale", "NYT", "CTV", "Indian Express")]
    [InlineData("Donor to PM", "Reuters", "Indian Express")]
    [InlineData("Tilikum", "NYT", "Indian Express")]
    [InlineData("election hacking says Russia plans to do more", "CTV", "Indian Express")]
    public void Copies_of_one_event_from_several_outlets_form_one_story(string titleFragment, params string[] outlets)
    {
        var stories = Day.Value.Where(c => c.Articles.Any(a => a.Title.Contains(titleFragment, StringComparison.Ordinal))).ToList();

        stories.Should().ContainSingle(s => s.Articles.Count > 1, $"the copies of '{titleFragment}' meet in one story");
        stories.Single(s => s.Articles.Count > 1).Outlets.Should().Contain(outlets);
    }

    [Fact]
    public void Events_that_share_only_a_name_and_a_theme_stay_apart()
    {
        string[] events =
        [
            "Mexico will pay us back",                          // the border wall
            "US Congress certifies Donald Trump",               // the certification
            "asks US ambassadors appointed by Barack Obama",    // the envoys' recall
            "Trudeau will not attend Donald Trump inauguration", // Trudeau skips the inauguration
            "inauguration with a ball",                         // an inaugural ball
            "Toyota target of Donald Trump",                    // a tweet about Toyota
        ];

        var stories = events.Select(Story).ToList();

        stories.Distinct().Should().HaveCount(events.Length, "each event is its own story");
        Day.Value.Max(c => c.Articles.Count).Should().BeLessThan(10, "no story swallows a day's worth of one name");
    }
}
