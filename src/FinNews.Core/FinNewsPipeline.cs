using FinNews.Core.Briefing;
using FinNews.Core.Feeds;
using FinNews.Core.Market;
using FinNews.Core.Search;

namespace FinNews.Core;

/// <summary>The whole job once: market data, every feed, the index, and a briefing. Used by `run`, jobs and the CLI.</summary>
public sealed class FinNewsPipeline
{
    private readonly FeedCatalog _feeds;
    private readonly FeedIngestor _ingestor;
    private readonly SearchIndexer _indexer;
    private readonly MarketDataLoader _market;
    private readonly BriefingComposer _composer;
    private readonly BriefingPublisher _publisher;
    private readonly StoryAssigner _stories;

    private readonly TimeProvider _time;

    public FinNewsPipeline(FeedCatalog feeds, FeedIngestor ingestor, SearchIndexer indexer, MarketDataLoader market,
        BriefingComposer composer, BriefingPublisher publisher, StoryAssigner stories, TimeProvider time)
    {
        _time = time;
        _stories = stories;
        _feeds = feeds;
        _ingestor = ingestor;
        _indexer = indexer;
        _market = market;
        _composer = composer;
        _publisher = publisher;
    }

    /// <summary>Loads market files and ingests every enabled feed; then drains the index.</summary>
    public async Task<IReadOnlyList<FeedRunResult>> IngestAsync(Action<FeedRunResult>? progress, CancellationToken cancellationToken)
    {
        await _market.LoadAllAsync(cancellationToken);
        var results = await _ingestor.IngestAsync(_feeds.Feeds(), progress, cancellationToken);
        await _indexer.DrainAsync(cancellationToken: cancellationToken);
        _stories.AssignRecent();
        return results;
    }

    /// <summary>
    /// Imports history under the backfill rule (see <see cref="BackfillRule"/>): each feed's current document, or
    /// <paramref name="archive"/> for a single feed; then indexes what is new. A feed that cannot be fetched or parsed is
    /// reported in its result and the others go on.
    /// </summary>
    public async Task<IReadOnlyList<(string FeedId, BackfillResult? Result, string? Error)>> BackfillAsync(IReadOnlyList<FeedDefinition> feeds,
        byte[]? archive, CancellationToken cancellationToken)
    {
        var results = new List<(string, BackfillResult?, string?)>();
        foreach (var feed in feeds)
        {
            try
            {
                results.Add((feed.Id, await _ingestor.BackfillAsync(feed, archive, cancellationToken), null));
            }
            catch (Exception ex) when (ex is FeedFetchException or FeedParseException)
            {
                results.Add((feed.Id, null, ex.Message));
            }
        }

        await _indexer.DrainAsync(cancellationToken: cancellationToken);
        _stories.AssignRecent();
        return results;
    }

    /// <summary>Polls the given feeds if they are due (not paused, backoff and Retry-After respected), then indexes and clusters.</summary>
    public async Task<IReadOnlyList<FeedRunResult>> IngestDueAsync(IReadOnlyList<FeedDefinition> feeds, CancellationToken cancellationToken)
    {
        var results = await _ingestor.IngestDueAsync(feeds, null, cancellationToken);
        if (results.Any(r => r.Counts is { Inserted: > 0 } or { Updated: > 0 }))
        {
            await FollowUpAsync(cancellationToken);
        }

        return results;
    }

    private int _followUpRunning;
    private int _followUpWanted;

    /// <summary>
    /// The index drain and story clustering after polls that stored something, one pass at a time in this process: a
    /// poll that finishes while a pass runs asks for one more pass and returns, and the running pass repeats once for it.
    /// </summary>
    /// <remarks>
    /// Each scheduled poll is its own job, and a worker runs several at once: without this, every poll drained the same
    /// unindexed articles and re-clustered the same 72-hour window in parallel (the cluster bench measured 3.3 times the
    /// indexing work needed, and row-lock deadlocks between the passes on PostgreSQL).
    /// </remarks>
    private async Task FollowUpAsync(CancellationToken cancellationToken)
    {
        Interlocked.Exchange(ref _followUpWanted, 1);
        // After a pass releases the gate, look again: a request made while it was finishing must not be left behind.
        while (Volatile.Read(ref _followUpWanted) == 1 && Interlocked.CompareExchange(ref _followUpRunning, 1, 0) == 0)
        {
            try
            {
                while (Interlocked.Exchange(ref _followUpWanted, 0) == 1)
                {
                    await _indexer.DrainAsync(cancellationToken: cancellationToken, waitForOtherNodes: false);
                    _stories.AssignRecent();
                }
            }
            finally
            {
                Volatile.Write(ref _followUpRunning, 0);
            }
        }
    }

    /// <summary>Writes, stores and publishes a briefing; returns it with the files written.</summary>
    public async Task<(BriefingDocument Briefing, IReadOnlyList<string> Files)> BriefAsync(DateTimeOffset? asOf, CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        await _indexer.DrainAsync(cancellationToken: cancellationToken);
        var briefing = await _composer.ComposeAsync(asOf, cancellationToken);
        var files = _publisher.Publish(briefing);
        Telemetry.FinNewsMetrics.BriefingWritten(_time.GetElapsedTime(started), briefing.Writer, briefing.Run?.Dropped.Count ?? 0);
        return (briefing, files);
    }
}

/// <summary>What the start-up pass of `run` is doing, shown on the page until the first briefing exists.</summary>
public sealed class FirstPassStatus
{
    public string State { get; set; } = "starting";
}
