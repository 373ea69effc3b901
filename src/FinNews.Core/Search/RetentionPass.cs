using FinNews.Core.Feeds;
using Microsoft.Extensions.Logging;

namespace FinNews.Core.Search;

/// <summary>What one retention pass removed.</summary>
/// <param name="Cutoff">Articles published before this instant were removed.</param>
/// <param name="Articles">Articles deleted from the store (with their story links).</param>
/// <param name="PeriodsDropped">Whole periods the index dropped at once (Elasticsearch monthly indices).</param>
public sealed record RetentionReport(DateTimeOffset Cutoff, int Articles, int PeriodsDropped);

/// <summary>
/// Retention on any store and any index: articles published before the cutoff leave the search index (their chunks
/// and vectors) and then the store (with their story links), batch by batch until none is left.
/// </summary>
/// <remarks>
/// Index first, then store: a crash in between leaves old articles in the store without chunks, which the next pass
/// removes; never chunks of an article the store no longer has (a search hit nobody can open). Articles published at
/// or after the cutoff are not touched.
/// </remarks>
public sealed class RetentionPass(IArticleStore store, ISearchIndex index, ILogger<RetentionPass> logger)
{
    /// <summary>Removes every article published before <paramref name="cutoff"/> from the index and the store.</summary>
    public async Task<RetentionReport> RunAsync(DateTimeOffset cutoff, int batchSize = 5000, CancellationToken cancellationToken = default)
    {
        var periods = await index.DropBeforeAsync(cutoff, cancellationToken);
        var deleted = 0;
        while (store.ArticleIdsPublishedBefore(cutoff, batchSize) is { Count: > 0 } ids)
        {
            cancellationToken.ThrowIfCancellationRequested();
            await index.DeleteAsync(ids, cancellationToken);
            deleted += store.DeleteArticles(ids);
        }

        if (deleted > 0 || periods > 0)
        {
            logger.LogInformation("Retention: deleted {Count} articles published before {Cutoff:yyyy-MM-dd} and their chunks", deleted, cutoff);
        }

        return new RetentionReport(cutoff, deleted, periods);
    }
}
