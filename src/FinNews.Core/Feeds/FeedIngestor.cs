using FinNews.Core.Storage;
using Microsoft.Extensions.Logging;

namespace FinNews.Core.Feeds;

/// <summary>The outcome of one feed's fetch-parse-store pass.</summary>
/// <param name="FeedId">The feed.</param>
/// <param name="Items">Items in the document.</param>
/// <param name="Counts">What was stored; null when the pass failed.</param>
/// <param name="NotModified">The server said nothing changed.</param>
/// <param name="Error">Why the pass failed, if it did.</param>
public sealed record FeedRunResult(string FeedId, int Items, IngestCounts? Counts, bool NotModified, string? Error);

/// <summary>Fetches, parses, normalizes and stores feeds; one bad feed never stops the others.</summary>
public sealed class FeedIngestor
{
    private readonly FeedFetcher _fetcher;
    private readonly ArticleNormalizer _normalizer;
    private readonly SqliteStore _store;
    private readonly TimeProvider _time;
    private readonly ILogger<FeedIngestor> _logger;

    public FeedIngestor(FeedFetcher fetcher, ArticleNormalizer normalizer, SqliteStore store, TimeProvider time, ILogger<FeedIngestor> logger)
    {
        _fetcher = fetcher;
        _normalizer = normalizer;
        _store = store;
        _time = time;
        _logger = logger;
    }

    /// <summary>One pass over the given feeds, in order, reporting each result as it completes.</summary>
    public async Task<IReadOnlyList<FeedRunResult>> IngestAsync(IReadOnlyList<FeedDefinition> feeds, Action<FeedRunResult>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(feeds);
        _store.SyncFeeds(feeds);
        var results = new List<FeedRunResult>(feeds.Count);
        foreach (var feed in feeds.Where(f => f.Enabled))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var result = await IngestOneAsync(feed, cancellationToken);
            results.Add(result);
            progress?.Invoke(result);
        }

        return results;
    }

    /// <summary>Fetches, parses and stores one feed; failures are recorded on the feed, not thrown.</summary>
    public async Task<FeedRunResult> IngestOneAsync(FeedDefinition feed, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(feed);
        var state = _store.GetFeedState(feed.Id);
        try
        {
            var fetched = await _fetcher.FetchAsync(feed, state?.ETag, state?.LastModified, cancellationToken);
            var now = _time.GetUtcNow();
            if (fetched.NotModified)
            {
                _store.RecordNotModified(feed.Id, now);
                _logger.LogInformation("Feed {FeedId}: not modified", feed.Id);
                return new FeedRunResult(feed.Id, 0, new IngestCounts(0, 0, 0), true, null);
            }

            var parsed = FeedParser.Parse(fetched.Body, fetched.Charset, feed.IsLocalFile ? null : fetched.FinalUri);
            var articles = new List<Article>(parsed.Items.Count);
            var ids = new HashSet<string>(StringComparer.Ordinal);
            foreach (var item in parsed.Items)
            {
                var article = _normalizer.Normalize(item, feed, feed.Name, now);
                if (article is not null && ids.Add(article.Id))
                {
                    articles.Add(article);
                }
            }

            var counts = _store.CommitFetch(feed.Id, articles, fetched.ETag, fetched.LastModified, now);
            _logger.LogInformation("Feed {FeedId}: {Items} items, {Inserted} new, {Updated} updated, {Duplicates} duplicates",
                feed.Id, parsed.Items.Count, counts.Inserted, counts.Updated, counts.Duplicates);
            return new FeedRunResult(feed.Id, parsed.Items.Count, counts, false, null);
        }
        catch (Exception ex) when (ex is FeedFetchException or FeedParseException or IOException or UnauthorizedAccessException)
        {
            _store.RecordFeedError(feed.Id, ex.Message, _time.GetUtcNow());
            _logger.LogWarning("Feed {FeedId} failed: {Reason}", feed.Id, ex.Message);
            return new FeedRunResult(feed.Id, 0, null, false, ex.Message);
        }
    }
}
