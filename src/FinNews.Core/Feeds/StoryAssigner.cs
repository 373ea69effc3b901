using Microsoft.Extensions.Logging;

namespace FinNews.Core.Feeds;

/// <summary>
/// Clusters the recent articles into stories and stores each article's cluster id, so listings, the API and later
/// briefings see one story per event across outlets.
/// </summary>
public sealed class StoryAssigner
{
    private readonly IArticleStore _store;
    private readonly StoryClusterer _clusterer;
    private readonly TimeProvider _time;
    private readonly ILogger<StoryAssigner> _logger;

    public StoryAssigner(IArticleStore store, StoryClusterer clusterer, TimeProvider time, ILogger<StoryAssigner> logger)
    {
        _store = store;
        _clusterer = clusterer;
        _time = time;
        _logger = logger;
    }

    /// <summary>Re-clusters the articles published in the last <paramref name="window"/> (default 72 h); returns the number of stories.</summary>
    public int AssignRecent(TimeSpan? window = null)
    {
        var now = _time.GetUtcNow();
        // Anchor on the newest stored article, so a quiet period (or the bundled samples) still gets clustered.
        var end = _store.LatestPublished(DateTimeOffset.MaxValue)?.AddTicks(1) ?? now;
        var articles = _store.ArticlesInWindow(end - (window ?? TimeSpan.FromHours(72)), end, DateTimeOffset.MaxValue, limit: 100_000);
        var clusters = _clusterer.Cluster(articles);
        _store.AssignClusters(clusters.SelectMany(c =>
        {
            var id = StoryClusterer.ClusterId(c);
            return c.Articles.Select(a => (a.Id, id));
        }));
        _logger.LogInformation("Clustered {Articles} recent articles into {Stories} stories ({Multi} carried by several outlets)",
            articles.Count, clusters.Count, clusters.Count(c => c.Outlets.Count > 1));
        return clusters.Count;
    }
}
