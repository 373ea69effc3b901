using FinNews.Core.Feeds;
using FinNews.Core.Storage;
using FinNews.Hosting;

namespace FinNews.Api;

/// <summary>
/// /api/v1/feeds: health for readers; add, remove, pause and resume for admin keys. With Auth:Enabled false (the
/// embedded default) reads stay anonymous but admin calls are refused: changing feeds over HTTP needs real keys.
/// </summary>
internal static class FeedsApi
{
    public static void MapFeedsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/feeds").WithTags("Feeds");
        group.MapGroup("").RequireScope(FinNews.Core.Access.ApiScopes.Reader).MapGet("/", (FeedHealth health) => Results.Ok(health.List()));

        var admin = group.MapGroup("").RequireAdmin();

        admin.MapPost("/", async (NewFeed body, FeedCatalog catalog, FeedFetcher fetcher, SqliteStore store, CancellationToken ct) =>
        {
            var feed = new FeedDefinition(body.Id ?? "", body.Name ?? "", body.Url ?? "", body.IntervalMinutes ?? 30, Internal: body.Internal ?? false);
            try
            {
                var items = await catalog.AddAsync(feed, fetcher, ct);
                store.SyncFeeds([feed]);
                return Results.Created($"/api/v1/feeds/{Uri.EscapeDataString(feed.Id)}", new { feed.Id, items });
            }
            catch (Exception ex) when (ex is InvalidDataException or FeedFetchException or FeedParseException)
            {
                return Results.Problem(title: "Feed not added", detail: ex.Message, statusCode: 400);
            }
        });

        admin.MapDelete("/{id}", (string id, FeedCatalog catalog) => catalog.Remove(id)
            ? Results.NoContent()
            : Results.Problem(title: "Feed not found", detail: $"No feed '{id}'.", statusCode: 404));

        admin.MapPost("/{id}/pause", (string id, FeedCatalog catalog, SqliteStore store) => SetPaused(id, "paused by an operator (API)", catalog, store));
        admin.MapPost("/{id}/resume", (string id, FeedCatalog catalog, SqliteStore store) => SetPaused(id, null, catalog, store));
    }

    private static IResult SetPaused(string id, string? reason, FeedCatalog catalog, SqliteStore store)
    {
        var feeds = catalog.Load().Feeds;
        if (feeds.All(f => f.Id != id))
        {
            return Results.Problem(title: "Feed not found", detail: $"No feed '{id}'.", statusCode: 404);
        }

        store.SyncFeeds(feeds);
        _ = reason is null ? store.ResumeFeed(id) : store.PauseFeed(id, reason);
        return Results.NoContent();
    }

    internal sealed record NewFeed(string? Id, string? Name, string? Url, int? IntervalMinutes, bool? Internal);
}
