namespace FinNews.Core.Feeds;

/// <summary>One feed's health as shown by `finnews feeds status` and GET /api/v1/feeds.</summary>
public sealed record FeedHealthRow(
    string Id,
    string Name,
    string Url,
    string? CurrentUrl,
    bool Enabled,
    bool Sample,
    bool Internal,
    int IntervalMinutes,
    string Status,
    DateTimeOffset? LastSuccessAt,
    DateTimeOffset? LastFetchAt,
    string? LastError,
    int ErrorCount,
    DateTimeOffset? NextPollAt,
    bool Paused,
    string? PausedReason,
    double ItemsPerDay,
    long ItemsTotal,
    string Origin);

/// <summary>Joins the effective feed list with the stored fetch state.</summary>
public sealed class FeedHealth(FeedCatalog catalog, IFeedStore store, IArticleStore articles, TimeProvider time)
{
    /// <summary>
    /// Every feed of the effective list (declared in config or added) with its state and origin ("config" or
    /// "added"); items per day over the last 7 days.
    /// </summary>
    public IReadOnlyList<FeedHealthRow> List()
    {
        var now = time.GetUtcNow();
        var states = store.ListFeedStates().ToDictionary(s => s.Id, StringComparer.Ordinal);
        var counts = articles.ArticleCountsByFeed(now.AddDays(-7));
        return catalog.Entries().Select(entry =>
        {
            var f = entry.Definition;
            var s = states.GetValueOrDefault(f.Id);
            var status = !f.Enabled ? "disabled"
                : s is null || s.LastFetchAt is null ? "never fetched"
                : s.Paused ? "paused"
                : s.ErrorCount > 0 ? "failing"
                : "ok";
            return new FeedHealthRow(f.Id, f.Name, f.Url, s?.CurrentUrl, f.Enabled, f.Sample, f.Internal, f.IntervalMinutes, status,
                s?.LastSuccessAt, s?.LastFetchAt, s?.LastError, s?.ErrorCount ?? 0, s?.NextPollAt, s?.Paused ?? false, s?.PausedReason,
                Math.Round(counts.GetValueOrDefault(f.Id) / 7.0, 1), s?.ItemsTotal ?? 0, entry.Origin);
        }).ToList();
    }
}
