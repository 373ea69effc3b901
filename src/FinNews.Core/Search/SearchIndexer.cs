using FinNews.Core.Feeds;
using Microsoft.Extensions.Logging;

namespace FinNews.Core.Search;

/// <summary>Drains articles not yet indexed into the search index, in batches, marking each batch when written.</summary>
/// <remarks>An index outage only delays search: the articles stay marked unindexed and the next drain picks them up.</remarks>
public sealed class SearchIndexer
{
    /// <summary>
    /// Articles per index write (and per store read and mark). Each write is one SQLite transaction and one Lucene
    /// commit (fsyncs, a segment, merges), which cost about the same for 256 articles as for 2,048; larger batches
    /// amortize them (bench/README.md, ingest). Memory per batch stays small: the articles' text and one vector per chunk.
    /// </summary>
    public const int DefaultBatchSize = 2048;

    private readonly IArticleStore _store;
    private readonly ISearchIndex _index;
    private readonly ILogger<SearchIndexer> _logger;

    public SearchIndexer(IArticleStore store, ISearchIndex index, ILogger<SearchIndexer> logger)
    {
        _store = store;
        _index = index;
        _logger = logger;
    }

    /// <summary>
    /// Rebuilds the index from the store (<c>finnews reindex</c>): marks every article unindexed, clears the index
    /// (which also records the configured embedder and tokenizer), then drains. Marking comes first, so a crash at any
    /// point leaves articles queued rather than lost; the next drain or reindex finishes the job.
    /// </summary>
    /// <returns>How many articles were indexed.</returns>
    public async Task<int> ReindexAllAsync(int batchSize = DefaultBatchSize, Action<int>? progress = null, CancellationToken cancellationToken = default)
    {
        _store.MarkAllUnindexed();
        await _index.ClearAsync(cancellationToken);
        return await DrainAsync(batchSize, progress, waitForOtherNodes: true, cancellationToken);
    }

    /// <summary>Indexes every unindexed article; returns how many were indexed.</summary>
    /// <param name="batchSize">Articles per index write.</param>
    /// <param name="progress">Called with the running total after each batch.</param>
    /// <param name="waitForOtherNodes">
    /// When another process sharing the store is draining: true waits for it and then drains what is left (a briefing,
    /// a reindex, the CLI); false returns 0 at once (the drain after a poll, the scheduled drain), since that process
    /// drains until the queue is empty and looks again after letting go.
    /// </param>
    /// <param name="cancellationToken">Stops between batches.</param>
    public async Task<int> DrainAsync(int batchSize = DefaultBatchSize, Action<int>? progress = null, bool waitForOtherNodes = true,
        CancellationToken cancellationToken = default)
    {
        await _index.InitializeAsync(cancellationToken);
        var total = 0;
        while (true)
        {
            var queue = await _store.LockIndexQueueAsync(waitForOtherNodes, cancellationToken);
            if (queue is null)
            {
                _logger.LogDebug("Indexer: another process is draining the index queue; this drain is left to it");
                break;
            }

            await using (queue)
            {
                total += await DrainLockedAsync(batchSize, total, progress, cancellationToken);
            }

            // Another process that stored articles while this one held the queue found it taken and left them to this
            // one: look once more now that it is free.
            if (_store.UnindexedArticles(1).Count == 0)
            {
                break;
            }
        }

        if (total > 0)
        {
            _logger.LogInformation("Indexed {Count} articles", total);
        }

        return total;
    }

    private async Task<int> DrainLockedAsync(int batchSize, int before, Action<int>? progress, CancellationToken cancellationToken)
    {
        var total = 0;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var batch = _store.UnindexedArticles(batchSize);
            if (batch.Count == 0)
            {
                return total;
            }

            await _index.IndexAsync(batch, cancellationToken);
            var marked = _store.MarkIndexed(batch.Select(a => (a.Id, a.ContentHash)).ToList());
            if (marked < batch.Count)
            {
                await ForgetDeletedAsync(batch, cancellationToken);
            }

            total += batch.Count;
            progress?.Invoke(before + total);
        }
    }

    // Some articles of the batch were not marked: edited since they were read (they stay unindexed and the loop indexes
    // their new text) or deleted by retention meanwhile. The chunks just written for a deleted article must not outlive
    // it (a search hit nobody can open); retention deletes from the index again after the store for the other order.
    private async Task ForgetDeletedAsync(IReadOnlyList<Article> batch, CancellationToken cancellationToken)
    {
        var present = _store.GetArticles(batch.Select(a => a.Id)).Select(a => a.Id).ToHashSet(StringComparer.Ordinal);
        var deleted = batch.Select(a => a.Id).Where(id => !present.Contains(id)).ToList();
        if (deleted.Count > 0)
        {
            await _index.DeleteAsync(deleted, cancellationToken);
            _logger.LogInformation("Indexer: {Count} articles were deleted while being indexed; their chunks were removed", deleted.Count);
        }
    }
}
