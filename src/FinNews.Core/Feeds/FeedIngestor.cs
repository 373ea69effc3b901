using Microsoft.Extensions.Logging;

namespace FinNews.Core.Feeds;

/// <summary>The outcome of one feed's fetch-parse-store pass.</summary>
/// <param name="FeedId">The feed.</param>
/// <param name="Items">Items in the document.</param>
/// <param name="Counts">What was stored; null when the pass failed.</param>
/// <param name="NotModified">The server said nothing changed.</param>
/// <param name="Error">Why the pass failed, if it did.</param>
public sealed record FeedRunResult(string FeedId, int Items, IngestCounts? Counts, bool NotModified, string? Error);

/// <summary>What one feed's backfill imported.</summary>
/// <param name="Undated">Items skipped because they carry no publication date to place them in history.</param>
public sealed record BackfillResult(string FeedId, int Items, int Undated, IngestCounts Counts);

/// <summary>Fetches, parses, normalizes and stores feeds; one bad feed never stops the others.</summary>
/// <remarks>
/// Feeds are fetched a few at a time (<see cref="PollOptions.MaxConcurrentFeeds"/>) with at most
/// <see cref="PollOptions.MaxConcurrentPerHost"/> fetches to one host at once; each feed's items and state still commit
/// in one transaction. After every attempt the feed's next poll time is stored (<see cref="FeedPollPolicy"/>).
/// </remarks>
public sealed class FeedIngestor
{
    private readonly FeedFetcher _fetcher;
    private readonly ArticleNormalizer _normalizer;
    private readonly IFeedStore _store;
    private readonly IArticleStore _articles;
    private readonly FeedPollPolicy _policy;
    private readonly HostLimiter _hosts;
    private readonly ILogger<FeedIngestor> _logger;

    /// <param name="fetcher">Fetches feed documents.</param>
    /// <param name="normalizer">Turns parsed items into articles.</param>
    /// <param name="store">Where articles and feed state go.</param>
    /// <param name="time">The clock; used only to build the default policy when <paramref name="policy"/> is null.</param>
    /// <param name="logger">Logs each feed's outcome.</param>
    /// <param name="policy">Schedule, backoff and concurrency (and its own clock); defaults from <see cref="PollOptions"/> when null.</param>
    /// <remarks>One constructor with an optional policy, so dependency injection works whether or not a policy is registered.</remarks>
    public FeedIngestor(FeedFetcher fetcher, ArticleNormalizer normalizer, IFeedStore store, IArticleStore articles, TimeProvider time, ILogger<FeedIngestor> logger,
        FeedPollPolicy? policy = null)
    {
        _fetcher = fetcher;
        _normalizer = normalizer;
        _store = store;
        _articles = articles;
        _policy = policy ?? new FeedPollPolicy(new PollOptions(), time);
        _hosts = new HostLimiter(_policy.Options.MaxConcurrentPerHost);
        _logger = logger;
    }

    /// <summary>
    /// One pass over every enabled feed that is not paused (the manual CLI pass: a feed backing off is polled anyway),
    /// reporting each result as it is stored (fetches overlap; stores and reports follow feed-list order).
    /// </summary>
    public Task<IReadOnlyList<FeedRunResult>> IngestAsync(IReadOnlyList<FeedDefinition> feeds, Action<FeedRunResult>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(feeds);
        _store.SyncFeeds(feeds);
        var states = States();
        return RunAsync(feeds.Where(f => f.Enabled && !(states.GetValueOrDefault(f.Id)?.Paused ?? false)).ToList(), states, progress, cancellationToken);
    }

    /// <summary>
    /// One scheduled pass: only enabled feeds that are not paused and whose next poll time has come (their interval
    /// after a success, the backoff or Retry-After after a failure).
    /// </summary>
    public Task<IReadOnlyList<FeedRunResult>> IngestDueAsync(IReadOnlyList<FeedDefinition> feeds, Action<FeedRunResult>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(feeds);
        _store.SyncFeeds(feeds);
        var states = States();
        return RunAsync(feeds.Where(f => f.Enabled && _policy.IsDue(states.GetValueOrDefault(f.Id))).ToList(), states, progress, cancellationToken);
    }

    /// <summary>Fetches, parses and stores one feed; failures are recorded on the feed, not thrown.</summary>
    public Task<FeedRunResult> IngestOneAsync(FeedDefinition feed, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(feed);
        return IngestOneAsync(feed, _store.GetFeedState(feed.Id), cancellationToken);
    }

    private Dictionary<string, FeedState> States() => _store.ListFeedStates().ToDictionary(s => s.Id, StringComparer.Ordinal);

    private async Task<IReadOnlyList<FeedRunResult>> RunAsync(List<FeedDefinition> feeds, Dictionary<string, FeedState> states,
        Action<FeedRunResult>? progress, CancellationToken cancellationToken)
    {
        var results = new FeedRunResult[feeds.Count];
        // Fetching and parsing run in parallel; storing runs one feed at a time in feed-list order, so when two
        // outlets carry the same article the earlier-listed feed keeps it, exactly as in a sequential pass.
        var stored = feeds.Select(_ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).ToArray();
        var parallel = new ParallelOptions
        {
            MaxDegreeOfParallelism = Math.Max(1, _policy.Options.MaxConcurrentFeeds),
            CancellationToken = cancellationToken,
        };
        await Parallel.ForEachAsync(Enumerable.Range(0, feeds.Count), parallel, async (i, ct) =>
        {
            try
            {
                var feed = feeds[i];
                var state = states.GetValueOrDefault(feed.Id);
                var host = feed.IsLocalFile ? null : new Uri(state?.FetchUrl ?? feed.Url).IdnHost;
                Prepared prepared;
                using (await _hosts.EnterAsync(host, ct))
                {
                    prepared = await PrepareAsync(feed, state, ct);
                }

                if (i > 0)
                {
                    await stored[i - 1].Task.WaitAsync(ct);
                }

                results[i] = Store(feed, state, prepared);
                progress?.Invoke(results[i]);
            }
            finally
            {
                stored[i].TrySetResult();
            }
        });
        return results;
    }

    private async Task<FeedRunResult> IngestOneAsync(FeedDefinition feed, FeedState? state, CancellationToken cancellationToken) =>
        Store(feed, state, await PrepareAsync(feed, state, cancellationToken));

    /// <summary>A fetched and normalized feed, ready to store, or why it failed.</summary>
    private sealed record Prepared(FetchResult? Fetched, int Items, List<Article> Articles, DateTimeOffset At, Exception? Error);

    private async Task<Prepared> PrepareAsync(FeedDefinition feed, FeedState? state, CancellationToken cancellationToken)
    {
        try
        {
            var fetched = await _fetcher.FetchAsync(feed, state?.CurrentUrl, state?.ETag, state?.LastModified, cancellationToken);
            var now = _policy.Now;
            if (fetched.NotModified)
            {
                return new Prepared(fetched, 0, [], now, null);
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

            if (feed.FullText)
            {
                articles = await WithFullTextAsync(feed, articles, cancellationToken);
            }

            return new Prepared(fetched, parsed.Items.Count, articles, now, null);
        }
        catch (Exception ex) when (ex is FeedFetchException or FeedParseException or IOException or UnauthorizedAccessException)
        {
            return new Prepared(null, 0, [], _policy.Now, ex);
        }
    }

    /// <summary>
    /// Imports a feed's history under the <see cref="BackfillRule"/>: the items of <paramref name="archive"/> (a saved
    /// RSS/Atom/JSON Feed document), or of the feed's current document when null, fetched without validators. The
    /// feed's fetch state is left alone, so live polling carries on as before.
    /// </summary>
    public async Task<BackfillResult> BackfillAsync(FeedDefinition feed, byte[]? archive, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(feed);
        var now = _policy.Now;
        ParsedFeed parsed;
        if (archive is not null)
        {
            parsed = FeedParser.Parse(archive, null, null);
        }
        else
        {
            var fetched = await _fetcher.FetchAsync(feed, null, null, null, cancellationToken);
            parsed = FeedParser.Parse(fetched.Body, fetched.Charset, feed.IsLocalFile ? null : fetched.FinalUri);
        }

        var articles = new List<Article>(parsed.Items.Count);
        var ids = new HashSet<string>(StringComparer.Ordinal);
        var undated = 0;
        foreach (var item in parsed.Items)
        {
            if (_normalizer.Normalize(item, feed, feed.Name, now) is not { } normalized || !ids.Add(normalized.Id))
            {
                continue;
            }

            if (BackfillRule.Apply(normalized, now) is { } placed)
            {
                articles.Add(placed);
            }
            else
            {
                undated++;
            }
        }

        _store.SyncFeeds([feed]);
        var counts = _articles.ImportArticles(articles);
        _logger.LogInformation("Backfill {FeedId}: {Items} items, {Inserted} imported, {Duplicates} already stored, {Undated} skipped (no date)",
            feed.Id, parsed.Items.Count, counts.Inserted, counts.Duplicates, undated);
        return new BackfillResult(feed.Id, parsed.Items.Count, undated, counts);
    }

    /// <summary>Most article pages fetched per feed per run: polite to publishers, bounded in time.</summary>
    public const int MaxFullTextFetches = 25;

    // New items of a full-text feed get their page fetched (same limits and SSRF guard as the feed) and the extracted
    // article text as body when it is longer than what the feed gave. A page that fails keeps the feed's text.
    // Item links come from the feed's content, so they are trusted with nothing: only absolute http(s) URLs are
    // fetched, over the HTTP-only page path (never a file), and an internal feed's permission to reach private
    // addresses covers its own host only (see FeedFetcher.FetchPageAsync).
    private async Task<List<Article>> WithFullTextAsync(FeedDefinition feed, List<Article> articles, CancellationToken cancellationToken)
    {
        var result = new List<Article>(articles.Count);
        var fetches = 0;
        foreach (var article in articles)
        {
            if (fetches >= MaxFullTextFetches || _articles.GetArticle(article.Id) is not null)
            {
                result.Add(article);
                continue;
            }

            if (!Uri.TryCreate(article.Url, UriKind.Absolute, out var link) || (link.Scheme != Uri.UriSchemeHttp && link.Scheme != Uri.UriSchemeHttps))
            {
                if (article.Url.Length > 0)
                {
                    _logger.LogInformation("Full text for feed {FeedId}: item link {Url} is not an absolute http(s) URL; not fetched", feed.Id, article.Url);
                }

                result.Add(article);
                continue;
            }

            fetches++;
            try
            {
                var page = await _fetcher.FetchPageAsync(feed, link, cancellationToken);
                // FeedCharset knows the legacy code pages (windows-1252 and the rest) as well as the built-in encodings.
                var encoding = page.Charset is { } cs ? FeedCharset.Resolve(cs) ?? throw new ArgumentException($"unknown charset '{cs}'") : System.Text.Encoding.UTF8;
                var (text, method) = FullTextExtractor.Extract(encoding.GetString(page.Body));
                result.Add(text.Length > article.Body.Length ? article with { Body = text } : article);
                _logger.LogDebug("Full text for {Url}: {Method}, {Length} chars", article.Url, method, text.Length);
            }
            catch (Exception ex) when (ex is FeedFetchException or ArgumentException or NotSupportedException)
            {
                _logger.LogInformation("Full text for {Url} not fetched: {Reason}", article.Url, ex.Message);
                result.Add(article);
            }
        }

        return result;
    }

    /// <summary>Commits a prepared feed (items and state in one transaction) or records its failure and backoff.</summary>
    private FeedRunResult Store(FeedDefinition feed, FeedState? state, Prepared prepared)
    {
        if (prepared.Fetched is not { } fetched)
        {
            var error = prepared.Error!;
            var plan = _policy.AfterFailure(feed, state, error.Message, (error as FeedFetchException)?.RetryAfter);
            _store.RecordFeedFailure(feed.Id, error.Message, prepared.At, plan);
            if (plan.Paused)
            {
                _logger.LogError("Feed {FeedId} paused: {Reason}", feed.Id, plan.PausedReason);
            }
            else
            {
                _logger.LogWarning("Feed {FeedId} failed ({Errors} in a row, next try {NextPollAt:u}): {Reason}",
                    feed.Id, plan.ErrorCount, plan.NextPollAt, error.Message);
            }

            Telemetry.FinNewsMetrics.Polled(feed.Id, "failed");
            return new FeedRunResult(feed.Id, 0, null, false, error.Message);
        }

        var next = _policy.AfterSuccess(feed);
        var movedTo = fetched.MovedTo?.AbsoluteUri;
        if (movedTo is not null)
        {
            // The configured URL stays the feed's identity; only where it is fetched from changes.
            _logger.LogWarning("Feed {FeedId}: moved permanently from {OldUrl} to {NewUrl}; later fetches use the new URL (config still says {ConfigUrl})",
                feed.Id, state?.FetchUrl ?? feed.Url, movedTo, feed.Url);
        }

        if (fetched.NotModified)
        {
            _store.RecordNotModified(feed.Id, prepared.At, next, movedTo);
            _logger.LogInformation("Feed {FeedId}: not modified", feed.Id);
            Telemetry.FinNewsMetrics.Polled(feed.Id, "not_modified");
            return new FeedRunResult(feed.Id, 0, new IngestCounts(0, 0, 0), true, null);
        }

        var counts = _store.CommitFetch(feed.Id, prepared.Articles, fetched.ETag, fetched.LastModified, prepared.At, next, movedTo);
        _logger.LogInformation("Feed {FeedId}: {Items} items, {Inserted} new, {Updated} updated, {Duplicates} duplicates",
            feed.Id, prepared.Items, counts.Inserted, counts.Updated, counts.Duplicates);
        Telemetry.FinNewsMetrics.Ingested(feed.Id, counts.Inserted,
            prepared.Articles.Count == 0 ? null : prepared.Articles.Max(a => a.PublishedAt), prepared.At);
        return new FeedRunResult(feed.Id, prepared.Items, counts, false, null);
    }
}

/// <summary>At most N concurrent fetches per host; one semaphore per host name, created on first use.</summary>
internal sealed class HostLimiter(int perHost)
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, SemaphoreSlim> _gates = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Waits for a slot on <paramref name="host"/> (no wait when null: local files).</summary>
    public async Task<IDisposable> EnterAsync(string? host, CancellationToken cancellationToken)
    {
        if (host is null)
        {
            return Slot.None;
        }

        var gate = _gates.GetOrAdd(host, _ => new SemaphoreSlim(Math.Max(1, perHost)));
        await gate.WaitAsync(cancellationToken);
        return new Slot(gate);
    }

    private sealed class Slot(SemaphoreSlim? gate) : IDisposable
    {
        public static readonly Slot None = new(null);

        public void Dispose() => gate?.Release();
    }
}
