using FinNews.Core.Feeds;
using Microsoft.Extensions.Logging;

namespace FinNews.Core.Search;

/// <summary>Drains articles not yet indexed into the search index, in batches, marking each batch when written.</summary>
/// <remarks>An index outage only delays search: the articles stay marked unindexed and the next drain picks them up.</remarks>
public sealed class SearchIndexer
{
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
    public async Task<int> ReindexAllAsync(int batchSize = 256, Action<int>? progress = null, CancellationToken cancellationToken = default)
    {
        _store.MarkAllUnindexed();
        await _index.ClearAsync(cancellationToken);
        return await DrainAsync(batchSize, progress, cancellationToken);
    }

    /// <summary>Indexes every unindexed article; returns how many were indexed.</summary>
    public async Task<int> DrainAsync(int batchSize = 256, Action<int>? progress = null, CancellationToken cancellationToken = default)
    {
        await _index.InitializeAsync(cancellationToken);
        var total = 0;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var batch = _store.UnindexedArticles(batchSize);
            if (batch.Count == 0)
            {
                break;
            }

            await _index.IndexAsync(batch, cancellationToken);
            _store.MarkIndexed(batch.Select(a => a.Id));
            total += batch.Count;
            progress?.Invoke(total);
        }

        if (total > 0)
        {
            _logger.LogInformation("Indexed {Count} articles", total);
        }

        return total;
    }
}
