namespace FinNews.Core.Feeds;

/// <summary>A normalized news article: the unit that is stored, indexed, clustered and cited.</summary>
/// <param name="Id">Stable id: a hash of the feed id and the item's guid, or of its canonical URL when it has no guid.</param>
/// <param name="FeedId">The configured feed it came from.</param>
/// <param name="Outlet">Publisher name shown to readers (from feed config, else the channel title).</param>
/// <param name="Title">Plain-text title.</param>
/// <param name="Url">Canonical URL (lower-case host, no fragment, no tracking parameters).</param>
/// <param name="Summary">Plain-text summary, sanitized from any HTML.</param>
/// <param name="Body">Plain-text body (content:encoded / atom:content), may be empty.</param>
/// <param name="PublishedAt">Publication time in UTC; first-seen time when the feed gave none.</param>
/// <param name="FirstSeenAt">When this service first stored the item, UTC.</param>
/// <param name="PublishedIsFallback">True when <see cref="PublishedAt"/> is the first-seen time.</param>
/// <param name="Tickers">Watchlist symbols the article mentions.</param>
/// <param name="Authors">Author names.</param>
/// <param name="Categories">Category terms.</param>
/// <param name="ContentHash">Hash of normalized title + text, for exact-duplicate detection across feeds.</param>
/// <param name="Repaired">The source document needed lenient repair.</param>
/// <param name="Sample">The feed it came from is a bundled sample (fictional news); set by the store from the feed list.</param>
/// <param name="Backfilled">
/// Imported from history by <c>ingest --backfill</c>: <see cref="FirstSeenAt"/> is not an observation but the documented
/// rule (publication time plus the backfill lag), so point-in-time briefings that use it say so.
/// </param>
public sealed record Article(
    string Id,
    string FeedId,
    string Outlet,
    string Title,
    string Url,
    string Summary,
    string Body,
    DateTimeOffset PublishedAt,
    DateTimeOffset FirstSeenAt,
    bool PublishedIsFallback,
    IReadOnlyList<string> Tickers,
    IReadOnlyList<string> Authors,
    IReadOnlyList<string> Categories,
    string ContentHash,
    bool Repaired = false,
    bool Sample = false,
    bool Backfilled = false)
{
    /// <summary>Title and summary and body in one string, for indexing and lead-sentence extraction.</summary>
    public string FullText => string.IsNullOrEmpty(Body) ? $"{Title}. {Summary}" : $"{Title}. {Summary}\n{Body}";
}
