using FinNews.Core.Briefing;
using FinNews.Core.Storage;

namespace FinNews.Api;

/// <summary>The briefings API (/api/v1/briefings) and the health probe.</summary>
internal static class BriefingsApi
{
    public static void MapBriefingsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/briefings").WithTags("Briefings").RequireScope(FinNews.Core.Access.ApiScopes.Reader);

        group.MapGet("/latest", (SqliteStore store) => store.LatestBriefing() is { } b
            ? Results.Text(BriefingRenderer.ToJson(b), "application/json; charset=utf-8")
            : Results.Problem(title: "No briefing yet", detail: "No briefing has been written yet; run `finnews brief`.", statusCode: 404));

        group.MapGet("/{id}", (SqliteStore store, string id, string? format) =>
        {
            if (store.GetBriefing(id) is not { } b)
            {
                return Results.Problem(title: "Briefing not found", detail: $"No briefing with id '{id}'.", statusCode: 404);
            }

            return (format ?? "json").ToLowerInvariant() switch
            {
                "json" => Results.Text(BriefingRenderer.ToJson(b), "application/json; charset=utf-8"),
                "md" => Results.Text(BriefingRenderer.ToMarkdown(b), "text/markdown; charset=utf-8"),
                "html" => Results.Text(BriefingRenderer.ToHtmlDocument(b, BriefingPublisher.Css), "text/html; charset=utf-8"),
                _ => Results.Problem(title: "Bad format", detail: $"format '{format}' must be json, md or html.", statusCode: 400),
            };
        });

        group.MapGet("/", (SqliteStore store, int? page, int? pageSize) =>
        {
            var size = Math.Clamp(pageSize ?? 20, 1, 100);
            var p = Math.Max(1, page ?? 1);
            var items = store.ListBriefings((p - 1) * size, size);
            return Results.Ok(new BriefingPage(p, size, store.CountBriefings(), items));
        });

        app.MapGroup("/api/v1/articles").WithTags("Articles").RequireScope(FinNews.Core.Access.ApiScopes.Reader)
            .MapGet("/{id}", (SqliteStore store, string id) => store.GetArticle(id) is { } a
                ? Results.Ok(a)
                : Results.Problem(title: "Article not found", detail: $"No article with id '{id}'.", statusCode: 404));

        app.MapGet("/health", (SqliteStore store) =>
        {
            var latest = store.ListBriefings(0, 1) is [var first, ..] ? first : null;
            return Results.Ok(new Health("ok", store.CountArticles(), store.CountBriefings(), latest?.CreatedAt));
        }).WithTags("Health");
    }

    internal sealed record BriefingPage(int Page, int PageSize, long Total, IReadOnlyList<BriefingSummary> Items);

    internal sealed record Health(string Status, long Articles, long Briefings, DateTimeOffset? LatestBriefingAt);
}
