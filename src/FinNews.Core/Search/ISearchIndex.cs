using FinNews.Core.Storage;

namespace FinNews.Core.Search;

/// <summary>How a query is matched.</summary>
public enum SearchMode
{
    Lexical,
    Vector,
    Hybrid,
}

/// <summary>A search request.</summary>
/// <param name="Text">Free text.</param>
/// <param name="Mode">Lexical (BM25), vector (kNN over embeddings) or hybrid (both, fused; see <see cref="HybridFusion"/>).</param>
/// <param name="Limit">Maximum number of articles returned.</param>
/// <param name="Since">Only articles published at or after this instant.</param>
/// <param name="Until">Only articles published strictly before this instant.</param>
/// <param name="Tickers">Only articles tagged with at least one of these symbols (empty: no filter).</param>
/// <param name="Sources">Only articles from these feed ids (empty: no filter).</param>
public sealed record SearchQuery(
    string Text,
    SearchMode Mode = SearchMode.Hybrid,
    int Limit = 10,
    DateTimeOffset? Since = null,
    DateTimeOffset? Until = null,
    IReadOnlyList<string>? Tickers = null,
    IReadOnlyList<string>? Sources = null);

/// <summary>One result: the best-matching chunk of an article.</summary>
/// <param name="ArticleId">The article the chunk belongs to.</param>
/// <param name="ChunkId">Deterministic chunk id, <c>{articleId}#{n}</c>.</param>
/// <param name="Score">Fused score (higher is better); comparable only within one result list.</param>
/// <param name="Text">The chunk text.</param>
public sealed record SearchHit(string ArticleId, string ChunkId, double Score, string Text);

/// <summary>The search index over article chunks: BM25, vectors and their fusion.</summary>
/// <remarks>
/// Implementations must be idempotent: indexing the same article twice replaces its chunks (ids are
/// deterministic), never duplicates them. Results are at most one hit per article, best chunk first.
/// The index records the embedder name and dimension it was built with and refuses to mix them.
/// </remarks>
public interface ISearchIndex
{
    /// <summary>Creates the index structures if missing; fails with a message naming <c>finnews reindex</c> on an embedder mismatch.</summary>
    Task InitializeAsync(CancellationToken cancellationToken = default);

    /// <summary>Chunks, embeds and writes the articles, replacing any chunks they already had.</summary>
    Task IndexAsync(IReadOnlyList<Article> articles, CancellationToken cancellationToken = default);

    /// <summary>Runs a query with its filters.</summary>
    Task<IReadOnlyList<SearchHit>> SearchAsync(SearchQuery query, CancellationToken cancellationToken = default);

    /// <summary>Removes the chunks of these articles (retention, deletions).</summary>
    Task DeleteAsync(IReadOnlyCollection<string> articleIds, CancellationToken cancellationToken = default);

    /// <summary>Removes every chunk (used by reindex).</summary>
    Task ClearAsync(CancellationToken cancellationToken = default);

    /// <summary>Number of indexed chunks.</summary>
    Task<long> CountAsync(CancellationToken cancellationToken = default);
}
