using FinNews.Core.Feeds;

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

/// <summary>How one search ran: the backend, the path it took and the fusion, for <c>finnews search --explain</c>.</summary>
/// <param name="Backend">The backend, e.g. <c>sqlite (embedded)</c> or <c>elasticsearch 9.1.0, licence basic</c>.</param>
/// <param name="Path">What was executed, e.g. <c>_msearch (multi_match + knn), fused client-side</c>.</param>
/// <param name="Fusion">The fusion and its weights, when two rankings were fused (null otherwise).</param>
/// <param name="Notes">Anything else worth knowing (why a configured path was not taken, candidate counts).</param>
public sealed record SearchExplanation(string Backend, string Path, string? Fusion, IReadOnlyList<string> Notes);

/// <summary>The hits of a search with the explanation of how they were found.</summary>
public sealed record ExplainedSearch(IReadOnlyList<SearchHit> Hits, SearchExplanation Explanation);

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

    /// <summary>Runs a query like <see cref="SearchAsync"/> and says which path ran and how the rankings were fused.</summary>
    async Task<ExplainedSearch> ExplainAsync(SearchQuery query, CancellationToken cancellationToken = default) =>
        new(await SearchAsync(query, cancellationToken), new SearchExplanation(GetType().Name, "not described by this index", null, []));

    /// <summary>Removes the chunks of these articles (retention, deletions).</summary>
    Task DeleteAsync(IReadOnlyCollection<string> articleIds, CancellationToken cancellationToken = default);

    /// <summary>
    /// Retention in bulk: drops whatever the backend stores by period and lies wholly before <paramref name="cutoff"/>
    /// (Elasticsearch: whole monthly indices). Returns how many such units were dropped; the default does nothing, and
    /// <see cref="DeleteAsync"/> still removes the remaining old articles one by one.
    /// </summary>
    Task<int> DropBeforeAsync(DateTimeOffset cutoff, CancellationToken cancellationToken = default) => Task.FromResult(0);

    /// <summary>Removes every chunk (used by reindex).</summary>
    Task ClearAsync(CancellationToken cancellationToken = default);

    /// <summary>Number of indexed chunks.</summary>
    Task<long> CountAsync(CancellationToken cancellationToken = default);
}
