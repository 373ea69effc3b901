using System.Globalization;
using FinNews.Core.Search;
using FinNews.Core.Storage;

namespace FinNews.Api;

/// <summary>GET /api/v1/search and the shared search-with-articles helper the CLI uses too.</summary>
internal static class SearchApi
{
    public static void MapSearchApi(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/api/v1/search").WithTags("Search").RequireScope(FinNews.Core.Access.ApiScopes.Reader).MapGet("/", async (ISearchIndex index, SqliteStore store, Microsoft.Extensions.AI.IEmbeddingGenerator<string, Microsoft.Extensions.AI.Embedding<float>> embedder,
            string? q, string? mode, string? since, string? until, string? ticker, string? source, int? limit, bool? collapse, double? diversity, CancellationToken ct) =>
        {
            if (string.IsNullOrWhiteSpace(q))
            {
                return Results.Problem(title: "Missing query", detail: "Query parameter 'q' is required.", statusCode: 400);
            }

            if (!TryMode(mode, out var m))
            {
                return Results.Problem(title: "Bad mode", detail: $"mode '{mode}' must be lexical, vector or hybrid.", statusCode: 400);
            }

            DateTimeOffset? from = null, to = null;
            if (since is not null)
            {
                if (!DateTimeOffset.TryParse(since, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var f))
                {
                    return Results.Problem(title: "Bad since", detail: $"since '{since}' is not an ISO 8601 instant.", statusCode: 400);
                }

                from = f;
            }

            if (until is not null)
            {
                if (!DateTimeOffset.TryParse(until, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var u))
                {
                    return Results.Problem(title: "Bad until", detail: $"until '{until}' is not an ISO 8601 instant.", statusCode: 400);
                }

                to = u;
            }

            if (diversity is < 0 or > 1)
            {
                return Results.Problem(title: "Bad diversity", detail: $"diversity {diversity} must be between 0 (relevance only) and 1.", statusCode: 400);
            }

            var query = new SearchQuery(q, m, Math.Clamp(limit ?? 10, 1, 100), from, to, Split(ticker), Split(source));
            return Results.Ok(await SearchWithArticlesAsync(index, store, query, ct, collapse ?? true, diversity is > 0 ? (embedder, diversity.Value) : null));
        });
    }

    /// <summary>
    /// Runs a search and joins the articles. <paramref name="collapse"/> keeps the best hit of each story (the same event
    /// from several outlets); <paramref name="diversify"/> re-ranks by maximal marginal relevance (weight 0..1 on
    /// novelty) so near-identical hits do not crowd the list.
    /// </summary>
    internal static async Task<IReadOnlyList<SearchResult>> SearchWithArticlesAsync(ISearchIndex index, SqliteStore store, SearchQuery query,
        CancellationToken ct, bool collapse = true,
        (Microsoft.Extensions.AI.IEmbeddingGenerator<string, Microsoft.Extensions.AI.Embedding<float>> Embedder, double Weight)? diversify = null,
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
                clusters.GetValueOrDefault(a.Id));
        }).ToList();
    }

    /// <summary>A mode by name only: Enum.TryParse alone would also take "5" and yield a value no search knows.</summary>
    internal static bool TryMode(string? text, out SearchMode mode)
    {
        mode = SearchMode.Hybrid;
        if (text is null)
        {
            return true;
        }

        var name = Enum.GetNames<SearchMode>().FirstOrDefault(n => string.Equals(n, text.Trim(), StringComparison.OrdinalIgnoreCase));
        return name is not null && Enum.TryParse(name, out mode);
    }

    private static string[]? Split(string? csv) =>
        string.IsNullOrWhiteSpace(csv) ? null : csv.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

/// <summary>A search hit with its article.</summary>
public sealed record SearchResult(string ArticleId, string Title, string Outlet, string Url, DateTimeOffset PublishedAt,
    IReadOnlyList<string> Tickers, double Score, string Snippet, string? StoryId);
