using FinNews.Core.Briefing;
using FinNews.Core.Feeds;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.OpenApi;

namespace FinNews.Api;

/// <summary>The briefings API (/api/v1/briefings) and the health probe.</summary>
internal static class BriefingsApi
{
    private static readonly EnumParameter Format = new("format",
        "json: the briefing as data (BriefingDocument); md: Markdown; html: a standalone HTML page with its styles.", ["json", "md", "html"], "json") { Example = "md" };

    private static readonly PathParameter BriefingId = new("id", "A briefing id, as listed by GET /api/v1/briefings.") { Example = "20261121-060000-3f2a9c" };

    private static readonly PathParameter ArticleId = new("id", "An article id, as cited in a briefing's sources (articleId) or returned by search.");

    // 100 000 pages of 100 is far beyond any store; the bound keeps (page - 1) * pageSize inside an int.
    private static readonly IntegerParameter Page = new("page", "Page number, from 1.", 1, 1, 100_000) { Example = "2" };

    private static readonly IntegerParameter PageSize = new("pageSize", "Briefings per page. Outside 1..100 is a 400 (never silently clamped).", 20, 1, 100) { Example = "10" };

    /// <summary>How long /health waits for the store's counts before answering without them.</summary>
    private static readonly TimeSpan HealthCountsWait = TimeSpan.FromSeconds(2);

    public static void MapBriefingsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/briefings").WithTags("Briefings").RequireScope(FinNews.Core.Access.ApiScopes.Reader);

        group.MapGet("/latest", IResult (IBriefingStore store, LatestBriefingCache cache, HttpContext http, string? format) =>
            {
                var errors = new ParameterErrors();
                var f = Format.Read(format, errors);
                if (errors.Problem is { } problem)
                {
                    return problem;
                }

                if (store.LatestBriefingJson() is not { } json)
                {
                    return TypedResults.Problem(title: "No briefing yet", detail: "No briefing has been written yet; run `finnews brief`.", statusCode: StatusCodes.Status404NotFound);
                }

                var (body, etag) = cache.Get(json, f);
                http.Response.Headers.ETag = etag;
                http.Response.Headers.CacheControl = "no-cache"; // revalidate each time: a new briefing may be written at any moment
                return http.Request.Headers.IfNoneMatch.Any(v => v is not null && (v == "*" || v.Split(',').Any(t => t.Trim() == etag)))
                    ? Results.StatusCode(StatusCodes.Status304NotModified)
                    : TypedResults.Text(body, LatestBriefingCache.ContentType(f));
            })
            .WithSummary("The latest briefing")
            .WithDescription("The briefing of record: the current version of the newest edition (the latest covered day, not merely the last one written), rendered as format asks (the same renderings as /api/v1/briefings/{id}). "
                + "Each rendering carries an ETag; a request with If-None-Match naming it gets 304 Not Modified until another briefing or version is stored.")
            .WithBriefingResponses()
            .Produces(StatusCodes.Status304NotModified)
            .WithParameters(Format);

        group.MapGet("/{id}", (IBriefingStore store, string id, string? format) =>
                Render(format, () => store.GetBriefing(id), "Briefing not found", $"No briefing with id '{id}'."))
            .WithSummary("One briefing")
            .WithBriefingResponses()
            .WithParameters(BriefingId, Format);

        group.MapGet("/", Results<Ok<BriefingPage>, ValidationProblem> (IBriefingStore store, string? page, string? pageSize) =>
            {
                var errors = new ParameterErrors();
                var p = Page.Read(page, errors);
                var size = PageSize.Read(pageSize, errors);
                if (errors.Problem is { } problem)
                {
                    return problem;
                }

                var items = store.ListBriefings((p - 1) * size, size);
                return TypedResults.Ok(new BriefingPage(p, size, store.CountBriefings(), items));
            })
            .WithSummary("All briefings, newest first, paged")
            .WithParameters(Page, PageSize);

        app.MapGroup("/api/v1/articles").WithTags("Articles").RequireScope(FinNews.Core.Access.ApiScopes.Reader)
            .MapGet("/{id}", Results<Ok<Article>, ProblemHttpResult> (IArticleStore store, string id) => store.GetArticle(id) is { } a
                ? TypedResults.Ok(a)
                : TypedResults.Problem(title: "Article not found", detail: $"No article with id '{id}'.", statusCode: StatusCodes.Status404NotFound))
            .WithSummary("One stored article")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithParameters(ArticleId);

        app.MapGet("/health", async (IArticleStore articles, IBriefingStore store, TimeProvider clock, ILoggerFactory loggers) =>
        {
            // Liveness: the process answers, whatever its store does. An orchestrator restarts a container whose
            // liveness fails, and restarting every node because the database is down helps nobody; /ready says that.
            // The counts are extra information, read when the store answers within HealthCountsWait (a database that
            // drops packets would otherwise hold the probe for the driver's whole connect timeout).
            try
            {
                var counts = await Task.Run(() =>
                {
                    var latest = store.ListBriefings(0, 1) is [var first, ..] ? first : null;
                    return new Health("ok", "available", articles.CountArticles(), store.CountBriefings(), latest?.CreatedAt);
                }).WaitAsync(HealthCountsWait, clock);
                return TypedResults.Ok(counts);
            }
            catch (Exception e) when (e is System.Data.Common.DbException or InvalidOperationException or TimeoutException or IOException)
            {
                loggers.CreateLogger("FinNews.Health").LogWarning("/health: the store did not answer ({Error}); counts left out", e.Message);
                return TypedResults.Ok(new Health("ok", "unavailable", null, null, null));
            }
        }).WithTags("Health").WithSummary("Liveness (200 while the process answers, even with its store down; see /ready), with article and briefing counts when the store answers; always anonymous");
    }

    /// <summary>
    /// The one rendering path of /latest and /{id}: the format is checked first (a bad one is a 400 whatever is
    /// stored), then the briefing is looked up (404 when there is none).
    /// </summary>
    private static IResult Render(string? format, Func<BriefingDocument?> find, string notFoundTitle, string notFoundDetail)
    {
        var errors = new ParameterErrors();
        var f = Format.Read(format, errors);
        if (errors.Problem is { } problem)
        {
            return problem;
        }

        if (find() is not { } b)
        {
            return TypedResults.Problem(title: notFoundTitle, detail: notFoundDetail, statusCode: StatusCodes.Status404NotFound);
        }

        return TypedResults.Text(LatestBriefingCache.Render(b, f), LatestBriefingCache.ContentType(f));
    }

    /// <summary>The responses of a rendered briefing: 200 in each format, 400 for a bad format, 404.</summary>
    private static RouteHandlerBuilder WithBriefingResponses(this RouteHandlerBuilder builder) => builder
        .Produces<BriefingDocument>(StatusCodes.Status200OK, "application/json")
        .ProducesValidationProblem()
        .ProducesProblem(StatusCodes.Status404NotFound)
        .AddOpenApiOperationTransformer((operation, _, _) =>
        {
            // One response type per status code reaches the document: add the text renderings beside the JSON one.
            if (operation.Responses?.TryGetValue("200", out var ok) == true && ok is OpenApiResponse response && response.Content is { } content)
            {
                response.Description = "The briefing: JSON by default; Markdown with format=md; an HTML page with format=html.";
                content["text/markdown"] = new OpenApiMediaType { Schema = new OpenApiSchema { Type = JsonSchemaType.String }, Example = "# Financial briefing …" };
                content["text/html"] = new OpenApiMediaType { Schema = new OpenApiSchema { Type = JsonSchemaType.String }, Example = "<!DOCTYPE html>…" };
            }

            return Task.CompletedTask;
        });

    /// <summary>One page of briefings, newest first.</summary>
    /// <param name="Page">This page's number, from 1.</param>
    /// <param name="PageSize">Briefings per page.</param>
    /// <param name="Total">Briefings stored.</param>
    /// <param name="Items">This page's briefings (empty past the last page).</param>
    internal sealed record BriefingPage(int Page, int PageSize, long Total, IReadOnlyList<BriefingSummary> Items);

    /// <summary>Liveness and counts.</summary>
    /// <param name="Status">Always "ok" when the server answers.</param>
    /// <param name="Storage">"available", or "unavailable" when the store did not answer (the counts are then null; /ready has the details).</param>
    /// <param name="Articles">Articles stored.</param>
    /// <param name="Briefings">Briefings stored.</param>
    /// <param name="LatestBriefingAt">When the newest briefing was written (null before the first).</param>
    internal sealed record Health(string Status, string Storage, long? Articles, long? Briefings, DateTimeOffset? LatestBriefingAt);
}
