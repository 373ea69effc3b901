namespace FinNews.Core.Feeds;

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

/// <summary>Where a stored feed definition comes from.</summary>
public static class FeedOrigin
{
    /// <summary>Declared in the feed list file (config/feeds.json), seeded into the store.</summary>
    public const string Config = "config";

    /// <summary>Added by an operator (`finnews feeds add` or POST /api/v1/feeds).</summary>
    public const string Added = "added";
}

/// <summary>What removing a feed did.</summary>
public enum FeedRemoval
{
    /// <summary>The added feed's definition was deleted; its articles stay.</summary>
    Removed,

    /// <summary>No feed has that id.</summary>
    NotFound,

    /// <summary>The feed is declared in config/feeds.json and was left alone.</summary>
    DeclaredInConfig,
}

/// <summary>A feed of the effective feed list as stored.</summary>
/// <param name="Definition">The definition.</param>
/// <param name="Origin"><see cref="FeedOrigin.Config"/> or <see cref="FeedOrigin.Added"/>.</param>
/// <param name="AddedAt">When an operator added it (null for config feeds).</param>
public sealed record StoredFeed(FeedDefinition Definition, string Origin, DateTimeOffset? AddedAt);

/// <summary>A feed's fetch state as stored.</summary>
public sealed record FeedState(
    string Id,
    string Name,
    string Url,
    string? ETag,
    string? LastModified,
    DateTimeOffset? LastFetchAt,
    DateTimeOffset? LastSuccessAt,
    string? LastError,
    int ErrorCount,
    long ItemsTotal)
{
    /// <summary>Where the feed lives now, learned from a permanent redirect; null when at its configured URL.</summary>
    public string? CurrentUrl { get; init; }

    /// <summary>A scheduled pass does not poll the feed before this; null when it is due now.</summary>
    public DateTimeOffset? NextPollAt { get; init; }

    /// <summary>Start of the current failure streak; null after a success.</summary>
    public DateTimeOffset? FirstFailureAt { get; init; }

    /// <summary>The publisher's last Retry-After as an absolute time, if it sent one during the current streak.</summary>
    public DateTimeOffset? RetryAfterUntil { get; init; }

    /// <summary>True when the feed failed for too long and is no longer polled until resumed.</summary>
    public bool Paused { get; init; }

    /// <summary>Why the feed was paused.</summary>
    public string? PausedReason { get; init; }

    /// <summary>The URL to fetch: the one learned from a permanent redirect, else the configured one.</summary>
    public string FetchUrl => CurrentUrl ?? Url;
}
