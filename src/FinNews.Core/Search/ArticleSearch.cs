using FinNews.Core.Feeds;
using Microsoft.Extensions.AI;

namespace FinNews.Core.Search;

/// <summary>A search of the stored articles as readers see it (API, pages, CLI): hits joined with their articles.</summary>
public static class ArticleSearch
{
    /// <summary>
    /// Runs a search and joins the articles. <paramref name="collapse"/> keeps the best hit of each story (the same event
    /// from several outlets); <paramref name="diversify"/> re-ranks by maximal marginal relevance (weight 0..1 on
    /// novelty) so near-identical hits do not crowd the list.
    /// </summary>
    public static async Task<IReadOnlyList<SearchResult>> SearchAsync(ISearchIndex index, IArticleStore store, SearchQuery query,
        CancellationToken ct, bool collapse = true,
        (IEmbeddingGenerator<string, Embedding<float>> Embedder, double Weight)? diversify = null,
        Action<SearchExplanation>? explained = null)
    {
        var wanted = query.Limit;
        var indexQuery = query with { Limit = collapse || diversify is not null ? Math.Min(100, wanted * 4) : wanted };
        IReadOnlyList<SearchHit> hits;
        if (explained is null)
        {
            hits = await index.SearchAsync(indexQuery, ct);
        }
        else
        {
            var run = await index.ExplainAsync(indexQuery, ct);
            explained(run.Explanation);
            hits = run.Hits;
        }

        var clusters = store.ClusterIds(hits.Select(h => h.ArticleId));
        if (collapse)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            hits = hits.Where(h => seen.Add(clusters.GetValueOrDefault(h.ArticleId) ?? h.ArticleId)).ToList();
        }

        if (diversify is { } d && hits.Count > 1)
        {
            var vectors = await d.Embedder.GenerateAsync(hits.Select(h => h.Text), cancellationToken: ct);
            double max = hits.Max(h => h.Score), min = hits.Min(h => h.Score);
            var candidates = hits.Select((h, i) => new MmrCandidate(h.ArticleId, max > min ? (h.Score - min) / (max - min) : 1, vectors[i].Vector)).ToList();
            var order = MaximalMarginalRelevance.Select(candidates, wanted, 1 - d.Weight).Select((c, i) => (c.Id, i)).ToDictionary(x => x.Id, x => x.i, StringComparer.Ordinal);
            hits = hits.Where(h => order.ContainsKey(h.ArticleId)).OrderBy(h => order[h.ArticleId]).ToList();
        }

        hits = hits.Take(wanted).ToList();
        var articles = store.GetArticles(hits.Select(h => h.ArticleId)).ToDictionary(a => a.Id, StringComparer.Ordinal);
        return hits.Where(h => articles.ContainsKey(h.ArticleId)).Select(h =>
        {
            var a = articles[h.ArticleId];
            return new SearchResult(a.Id, a.Title, a.Outlet, a.Url, a.PublishedAt, a.Tickers, h.Score, h.Text.Length > 300 ? h.Text[..300] + "…" : h.Text,
                clusters.GetValueOrDefault(a.Id), a.Sample);
        }).ToList();
    }

    /// <summary>A mode by name only: Enum.TryParse alone would also take "5" and yield a value no search knows.</summary>
    public static bool TryMode(string? text, out SearchMode mode)
    {
        mode = SearchMode.Hybrid;
        if (text is null)
        {
            return true;
        }

        var name = Enum.GetNames<SearchMode>().FirstOrDefault(n => string.Equals(n, text.Trim(), StringComparison.OrdinalIgnoreCase));
        return name is not null && Enum.TryParse(name, out mode);
    }
}

/// <summary>A search hit with its article; <paramref name="Sample"/> when it comes from a bundled sample feed (fictional news).</summary>
/// <param name="Score">Relevance; comparable only within one result list.</param>
/// <param name="Snippet">The best-matching passage, at most 300 characters.</param>
/// <param name="StoryId">The story (the same event across outlets) the article belongs to, when clustered.</param>
public sealed record SearchResult(string ArticleId, string Title, string Outlet, string Url, DateTimeOffset PublishedAt,
    IReadOnlyList<string> Tickers, double Score, string Snippet, string? StoryId, bool Sample = false);
