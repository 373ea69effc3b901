using System.Globalization;
using FinNews.Core.Search;
using FinNews.Core.Storage;

namespace FinNews.Api;

/// <summary>GET /api/v1/search and the shared search-with-articles helper the CLI uses too.</summary>
internal static class SearchApi
{
    public static void MapSearchApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/search", async (ISearchIndex index, SqliteStore store, string? q, string? mode, string? since, string? until,
            string? ticker, string? source, int? limit, CancellationToken ct) =>
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

            var query = new SearchQuery(q, m, Math.Clamp(limit ?? 10, 1, 100), from, to, Split(ticker), Split(source));
            return Results.Ok(await SearchWithArticlesAsync(index, store, query, ct));
        }).WithTags("Search");
    }

    internal static async Task<IReadOnlyList<SearchResult>> SearchWithArticlesAsync(ISearchIndex index, SqliteStore store, SearchQuery query, CancellationToken ct)
    {
        var hits = await index.SearchAsync(query, ct);
        var articles = store.GetArticles(hits.Select(h => h.ArticleId)).ToDictionary(a => a.Id, StringComparer.Ordinal);
        return hits.Where(h => articles.ContainsKey(h.ArticleId)).Select(h =>
        {
            var a = articles[h.ArticleId];
            return new SearchResult(a.Id, a.Title, a.Outlet, a.Url, a.PublishedAt, a.Tickers, h.Score, h.Text.Length > 300 ? h.Text[..300] + "…" : h.Text);
        }).ToList();
    }

    internal static bool TryMode(string? text, out SearchMode mode)
    {
        mode = SearchMode.Hybrid;
        return text is null || Enum.TryParse(text, ignoreCase: true, out mode);
    }

    private static string[]? Split(string? csv) =>
        string.IsNullOrWhiteSpace(csv) ? null : csv.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

/// <summary>A search hit with its article.</summary>
public sealed record SearchResult(string ArticleId, string Title, string Outlet, string Url, DateTimeOffset PublishedAt,
    IReadOnlyList<string> Tickers, double Score, string Snippet);
