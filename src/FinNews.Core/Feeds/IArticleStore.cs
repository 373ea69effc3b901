namespace FinNews.Core.Feeds;

// CA1716: "error" and "to" are Visual Basic keywords only; the names match the implementations and the callers\' named arguments.
#pragma warning disable CA1716

/// <summary>Articles (with their search-index mark) and the story clusters that link them.</summary>
/// <remarks>
/// Duplicate and edit rules are the same for every implementation: an unknown id whose URL and content hash are new is
/// inserted; a known id with another content hash is an edit (text replaced, identity and first-seen kept, re-indexed);
/// anything else is a duplicate. Point-in-time reads never return an article first seen after the given instant.
/// </remarks>
public interface IArticleStore
{
    /// <summary>Stores imported articles in one transaction, with the fetch's duplicate and edit rules, feed state untouched.</summary>
    IngestCounts ImportArticles(IReadOnlyList<Article> articles);

    Article? GetArticle(string id);

    IReadOnlyList<Article> GetArticles(IEnumerable<string> ids);

    /// <summary>Articles published in [from, to) and seen by <paramref name="knownBefore"/> (default <paramref name="to"/>), newest first.</summary>
    IReadOnlyList<Article> ArticlesInWindow(DateTimeOffset from, DateTimeOffset to, DateTimeOffset? knownBefore = null, int limit = 5000);

    /// <summary>The newest articles tagged with a symbol, published and first seen by <paramref name="knownBefore"/>.</summary>
    IReadOnlyList<Article> ArticlesTagged(string symbol, DateTimeOffset knownBefore, int limit = 10);

    /// <summary>The newest publication time among articles seen by <paramref name="knownBefore"/>, if any.</summary>
    DateTimeOffset? LatestPublished(DateTimeOffset knownBefore);

    long CountArticles();

    /// <summary>Articles stored per feed since <paramref name="since"/> (first-seen).</summary>
    IReadOnlyDictionary<string, long> ArticleCountsByFeed(DateTimeOffset since);

    /// <summary>A batch of articles not yet in the search index, oldest first.</summary>
    IReadOnlyList<Article> UnindexedArticles(int batchSize);

    /// <summary>
    /// Marks articles indexed as they were read for indexing (id and content hash); returns how many were marked.
    /// </summary>
    /// <remarks>
    /// Only a row that still has the given content hash is marked: an article edited by a fetch that committed after it
    /// was read stays unindexed, so the next drain indexes its new text (marking by id alone would keep the old text in
    /// the index for good). An article deleted meanwhile (retention) is not marked either; the indexer then removes the
    /// chunks it has just written for it.
    /// </remarks>
    int MarkIndexed(IReadOnlyCollection<(string Id, string ContentHash)> indexed);

    /// <summary>
    /// Takes the index queue for one drain across every process sharing the store, so two nodes never read and embed
    /// the same batch; disposing the handle lets go. With <paramref name="wait"/> false, returns null at once when
    /// another process holds it.
    /// </summary>
    /// <remarks>
    /// PostgreSQL: a session advisory lock (released too when the holder's connection ends, e.g. a killed node). SQLite:
    /// always granted (one host; the index writers serialize there).
    /// </remarks>
    Task<IAsyncDisposable?> LockIndexQueueAsync(bool wait, CancellationToken cancellationToken = default);

    /// <summary>Marks every article for re-indexing.</summary>
    void MarkAllUnindexed();

    /// <summary>Ids of articles published before <paramref name="cutoff"/>, oldest first.</summary>
    IReadOnlyList<string> ArticleIdsPublishedBefore(DateTimeOffset cutoff, int limit = 50_000);

    /// <summary>Deletes articles by id in one transaction (their story links go with them); returns how many.</summary>
    int DeleteArticles(IReadOnlyCollection<string> ids);

    /// <summary>The story cluster of each article that has one.</summary>
    IReadOnlyDictionary<string, string> ClusterIds(IEnumerable<string> articleIds);

    /// <summary>Records each article's story cluster (one transaction).</summary>
    void AssignClusters(IEnumerable<(string ArticleId, string ClusterId)> assignments);

    /// <summary>Stories with an article published at or after <paramref name="since"/>, most outlets first.</summary>
    IReadOnlyList<StoryRow> ListStories(DateTimeOffset since, int limit = 200);

    /// <summary>Every article of one story, oldest first.</summary>
    IReadOnlyList<Article> StoryArticles(string clusterId);

    /// <summary>
    /// Up to <paramref name="limit"/> article ids after (<paramref name="afterFirstSeen"/>, <paramref name="afterId"/>)
    /// in (first seen, id) order: a stable keyset over every article for copies that resume.
    /// </summary>
    IReadOnlyList<(string Id, DateTimeOffset FirstSeenAt)> ArticleKeysAfter(DateTimeOffset afterFirstSeen, string afterId, int limit);
}

/// <summary>What one fetch of a feed did to the store.</summary>
/// <param name="Inserted">New articles stored.</param>
/// <param name="Updated">Known articles whose text changed.</param>
/// <param name="Duplicates">Items skipped as exact duplicates (same id, URL or content hash).</param>
public sealed record IngestCounts(int Inserted, int Updated, int Duplicates);

/// <summary>A stored story cluster: the articles from every outlet that reported one event.</summary>
public sealed record StoryRow(string ClusterId, IReadOnlyList<Article> Articles)
{
    public IReadOnlyList<string> Outlets => Articles.Select(a => a.Outlet).Distinct(StringComparer.Ordinal).ToList();

    public DateTimeOffset FirstPublished => Articles.Min(a => a.PublishedAt);

    public DateTimeOffset LastPublished => Articles.Max(a => a.PublishedAt);

    /// <summary>The earliest article's title.</summary>
    public string Headline => Articles.OrderBy(a => a.PublishedAt).First().Title;
}
