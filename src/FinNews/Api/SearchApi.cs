using FinNews.Core.Feeds;
using FinNews.Core.Search;
using Microsoft.AspNetCore.Http.HttpResults;

namespace FinNews.Api;

/// <summary>GET /api/v1/search (the search itself is <see cref="ArticleSearch"/>, shared with the pages and the CLI).</summary>
internal static class SearchApi
{
    private static readonly TextParameter Query = new("q", "What to look for.") { Required = true, Example = "brake recall" };

    private static readonly EnumParameter Mode = new("mode",
        "lexical (BM25 over the words), vector (nearest embeddings) or hybrid (both, fused).",
        [.. Enum.GetNames<SearchMode>().Select(n => n.ToLowerInvariant())], "hybrid") { Example = "lexical" };

    private static readonly InstantParameter Since = new("since",
        "Only articles published at or after this: a duration back from now (30m, 24h, 7d, 2w) or an ISO 8601 instant (UTC when it has no offset). Must not be after until.") { Example = "24h" };

    private static readonly InstantParameter Until = new("until",
        "Only articles published before this: a duration back from now or an ISO 8601 instant.") { Example = "2026-11-21T00:00:00Z" };

    private static readonly ListParameter Ticker = new("ticker", "Only articles tagged with one of these tickers, comma-separated.") { Example = "NVLX" };

    private static readonly ListParameter Source = new("source", "Only articles from these feed ids, comma-separated.") { Example = "meridian-wire" };

    private static readonly IntegerParameter Limit = new("limit", "How many results at most. Outside 1..100 is a 400 (never silently clamped).", 10, 1, 100) { Example = "5" };

    private static readonly BooleanParameter Collapse = new("collapse",
        "true: one hit per story (the best of the outlets that carried the event); false: every outlet's copy.", true) { Example = "false" };

    private static readonly NumberParameter Diversity = new("diversity",
        "Weight on novelty (0 to 1) when re-ranking by maximal marginal relevance, so near-identical hits do not crowd the list; 0 is off.", 0, 0, 1) { Example = "0.3" };

    public static void MapSearchApi(this IEndpointRouteBuilder app)
    {
        // Parameters bind as strings and are read through their declarations above: a bad value is a 400 naming it.
        app.MapGroup("/api/v1/search").WithTags("Search").RequireScope(FinNews.Core.Access.ApiScopes.Reader).MapGet("/", async Task<Results<Ok<IReadOnlyList<SearchResult>>, ValidationProblem>> (
            ISearchIndex index, IArticleStore store, Microsoft.Extensions.AI.IEmbeddingGenerator<string, Microsoft.Extensions.AI.Embedding<float>> embedder, TimeProvider time,
            string? q, string? mode, string? since, string? until, string? ticker, string? source, string? limit, string? collapse, string? diversity, CancellationToken ct) =>
        {
            var errors = new ParameterErrors();
            var text = Query.Read(q, errors);
            var m = Enum.Parse<SearchMode>(Mode.Read(mode, errors), ignoreCase: true);
            var now = time.GetUtcNow();
            var from = Since.Read(since, now, errors);
            var to = Until.Read(until, now, errors);
            if (from > to)
            {
                errors.Add(Since.Name, $"since '{since}' ({from:yyyy-MM-dd'T'HH:mm:ss'Z'}) is after until '{until}' ({to:yyyy-MM-dd'T'HH:mm:ss'Z'}): no article can match.");
            }

            var n = Limit.Read(limit, errors);
            var oneper = Collapse.Read(collapse, errors);
            var novelty = Diversity.Read(diversity, errors);
            if (errors.Problem is { } problem)
            {
                return problem;
            }

            var query = new SearchQuery(text!, m, n, from, to, ListParameter.Read(ticker), ListParameter.Read(source));
            return TypedResults.Ok(await ArticleSearch.SearchAsync(index, store, query, ct, oneper, novelty > 0 ? (embedder, novelty) : null));
        })
        .WithSummary("Search stored articles")
        .WithDescription("BM25, vectors, or both fused, with time, ticker and source filters; one hit per story unless collapse=false. "
            + "Every bad parameter is a 400 whose detail names it and its value; unknown parameters are ignored.")
        .WithParameters(Query, Mode, Since, Until, Ticker, Source, Limit, Collapse, Diversity);
    }
}
