using FinNews.Core.Feeds;

namespace FinNews.Core.Storage;

// CA1716: "error" and "to" are Visual Basic keywords only; the names match the implementations and the callers\' named arguments.
#pragma warning disable CA1716

/// <summary>Feeds: the effective feed list (declared and operator-added definitions) and each feed's fetch state.</summary>
/// <remarks>
/// Implementations commit a fetch's items and the feed's new state in one transaction (<see cref="CommitFetch(string, IReadOnlyList{Article}, string?, string?, DateTimeOffset, DateTimeOffset?, string?)"/>):
/// a crash never marks a feed fresh without its items, and a rerun never duplicates them.
/// </remarks>
public interface IFeedStore
{
    /// <summary>Ensures a fetch-state row per feed; rows holding a definition are left as they are.</summary>
    void SyncFeeds(IEnumerable<FeedDefinition> feeds);

    /// <summary>Makes the stored definitions agree with the declared list (config/feeds.json), in one transaction.</summary>
    void SeedFeeds(IReadOnlyList<FeedDefinition> declared);

    /// <summary>Stores an operator-added feed; false when a feed with that id already exists.</summary>
    bool TryAddFeed(FeedDefinition feed, DateTimeOffset at);

    /// <summary>Removes an operator-added feed's definition (its articles stay); config feeds are never removed.</summary>
    FeedRemoval RemoveAddedFeed(string feedId);

    /// <summary>The effective feed list: config feeds in declared order, then added feeds in the order they were added.</summary>
    IReadOnlyList<StoredFeed> ListFeeds();

    /// <summary>One feed of the effective list, or null.</summary>
    StoredFeed? GetFeed(string feedId);

    /// <summary>One feed's fetch state, or null.</summary>
    FeedState? GetFeedState(string feedId);

    /// <summary>Every fetch-state row, by id.</summary>
    IReadOnlyList<FeedState> ListFeedStates();

    /// <summary>Records a failed fetch: the error and a growing error count.</summary>
    void RecordFeedError(string feedId, string error, DateTimeOffset at);

    /// <summary>Records a failed fetch with its schedule (backoff, Retry-After, pause).</summary>
    void RecordFeedFailure(string feedId, string error, DateTimeOffset at, FeedFailurePlan plan);

    /// <summary>Pauses a feed by hand; false if unknown.</summary>
    bool PauseFeed(string feedId, string reason);

    /// <summary>Un-pauses a feed and clears its failure streak; false if unknown.</summary>
    bool ResumeFeed(string feedId);

    /// <summary>Stores one successful fetch (articles and validators) in one transaction.</summary>
    IngestCounts CommitFetch(string feedId, IReadOnlyList<Article> articles, string? etag, string? lastModified, DateTimeOffset at);

    /// <summary>Stores one successful fetch with the next poll time and the URL learned from a permanent redirect.</summary>
    IngestCounts CommitFetch(string feedId, IReadOnlyList<Article> articles, string? etag, string? lastModified, DateTimeOffset at,
        DateTimeOffset? nextPollAt, string? currentUrl);

    /// <summary>Records a 304 Not Modified.</summary>
    void RecordNotModified(string feedId, DateTimeOffset at);

    /// <summary>Records a 304 with the next poll time and the redirect URL (null keeps it).</summary>
    void RecordNotModified(string feedId, DateTimeOffset at, DateTimeOffset? nextPollAt, string? currentUrl);
}
