using FinNews.Core.Feeds;

namespace FinNews.Api;

/// <summary>
/// /api/v1/feeds: health for readers; add, remove, pause and resume for admin keys. With Auth:Enabled false (the
/// embedded default) reads stay anonymous but admin calls are refused: changing feeds over HTTP needs real keys.
/// </summary>
/// <remarks>
/// A feed added over HTTP is always fetched through the SSRF guard: marking a feed internal (allowed on private and
/// loopback addresses) is possible only from the command line or config/feeds.json. Error details never quote what a
/// fetched URL returned.
/// </remarks>
internal static class FeedsApi
{
    /// <summary>The 400 detail for a fetched document that is not a feed; fixed text, so no fetched bytes are echoed.</summary>
    internal const string NotAFeed = "The URL did not return a parseable RSS/Atom feed.";

    public static void MapFeedsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/feeds").WithTags("Feeds");
        group.MapGroup("").RequireScope(FinNews.Core.Access.ApiScopes.Reader).MapGet("/", (FeedHealth health) => TypedResults.Ok(health.List()))
            .WithSummary("Feed health: status, last success and error, next poll, items per day, origin (config or added)");

        var admin = group.MapGroup("").RequireAdmin();

        admin.MapPost("/", async (NewFeed body, FeedCatalog catalog, FeedFetcher fetcher, CancellationToken ct) =>
        {
            if (body.Internal == true)
            {
                return Results.ValidationProblem(
                    new Dictionary<string, string[]>(StringComparer.Ordinal)
                    {
                        ["internal"] = ["A feed can be marked internal (allowed on private or loopback addresses) only with `finnews feeds add --internal` or in config/feeds.json, never over HTTP."],
                    },
                    detail: "internal: true is not accepted over HTTP; feeds added through the API are always checked by the SSRF guard.",
                    title: "Feed not added");
            }

            var feed = new FeedDefinition(body.Id ?? "", body.Name ?? "", body.Url ?? "", body.IntervalMinutes ?? 30);
            try
            {
                var items = await catalog.AddAsync(feed, fetcher, ct);
                return Results.Created($"/api/v1/feeds/{Uri.EscapeDataString(feed.Id)}", new FeedAdded(feed.Id, items));
            }
            catch (FeedExistsException ex)
            {
                return Results.Problem(title: "Feed already exists", detail: ex.Message, statusCode: StatusCodes.Status409Conflict);
            }
            catch (FeedParseException)
            {
                return Results.Problem(title: "Feed not added", detail: $"Feed '{feed.Id}': {NotAFeed}", statusCode: StatusCodes.Status400BadRequest);
            }
            catch (FeedFetchException ex) when (IsAddressRefusal(ex))
            {
                // The guard's own message names the resolved address and suggests marking the feed internal, which
                // the API does not allow: say what applies here without disclosing internal addresses.
                return Results.Problem(title: "Feed not added",
                    detail: $"Feed '{feed.Id}': the URL's host resolves to a private, loopback or otherwise non-public address. "
                        + "Such feeds can be added only with `finnews feeds add --internal` or in config/feeds.json.",
                    statusCode: StatusCodes.Status400BadRequest);
            }
            catch (Exception ex) when (ex is InvalidDataException or FeedFetchException)
            {
                return Results.Problem(title: "Feed not added", detail: ex.Message, statusCode: StatusCodes.Status400BadRequest);
            }
        })
            .WithSummary("Add a feed (admin)")
            .WithDescription("Fetches the URL through the SSRF guard and parses it before storing the feed; internal: true is refused (CLI and feeds.json only).")
            .Produces<FeedAdded>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);

        admin.MapDelete("/{id}", (string id, FeedCatalog catalog) => catalog.Remove(id) switch
        {
            FeedRemoval.Removed => Results.NoContent(),
            FeedRemoval.DeclaredInConfig => Results.Problem(title: "Feed is declared in config",
                detail: $"Feed '{id}' is declared in {catalog.FileName}, which FinNews never rewrites: remove it from that file to drop it, "
                    + $"or pause it (POST /api/v1/feeds/{id}/pause), which lasts across restarts.",
                statusCode: StatusCodes.Status409Conflict),
            _ => NotFound(id),
        })
            .WithSummary("Remove an added feed (admin); its articles stay")
            .Produces(StatusCodes.Status204NoContent)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .WithParameters(FeedId);

        admin.MapPost("/{id}/pause", (string id, FeedCatalog catalog, IFeedStore store) => SetPaused(id, "paused by an operator (API)", catalog, store))
            .WithSummary("Stop polling a feed (admin); its articles and state are kept, and the pause lasts across restarts")
            .Produces(StatusCodes.Status204NoContent)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithParameters(FeedId);
        admin.MapPost("/{id}/resume", (string id, FeedCatalog catalog, IFeedStore store) => SetPaused(id, null, catalog, store))
            .WithSummary("Start polling a paused feed again (admin)")
            .Produces(StatusCodes.Status204NoContent)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithParameters(FeedId);
    }

    private static IResult SetPaused(string id, string? reason, FeedCatalog catalog, IFeedStore store)
    {
        if (catalog.Find(id) is null)
        {
            return NotFound(id);
        }

        _ = reason is null ? store.ResumeFeed(id) : store.PauseFeed(id, reason);
        return Results.NoContent();
    }

    private static bool IsAddressRefusal(Exception ex)
    {
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            if (e is FeedAddressRefusedException)
            {
                return true;
            }
        }

        return false;
    }

    private static IResult NotFound(string id) => Results.Problem(title: "Feed not found", detail: $"No feed '{id}'.", statusCode: StatusCodes.Status404NotFound);

    private static readonly PathParameter FeedId = new("id", "A feed id, as listed by GET /api/v1/feeds.") { Example = "meridian-wire" };

    /// <summary>A feed to add over HTTP.</summary>
    /// <param name="Id">A new feed id (letters, digits, dashes).</param>
    /// <param name="Name">The outlet's name as shown with its articles.</param>
    /// <param name="Url">An http(s) URL of an RSS or Atom feed; fetched and parsed before the feed is stored.</param>
    /// <param name="IntervalMinutes">Minutes between polls (default 30).</param>
    /// <param name="Internal">Only false or absent: true is refused over HTTP (CLI and feeds.json only).</param>
    internal sealed record NewFeed(string? Id, string? Name, string? Url, int? IntervalMinutes, bool? Internal);

    /// <summary>The 201 body of an added feed.</summary>
    /// <param name="Id">The feed's id.</param>
    /// <param name="Items">How many items its first fetch found.</param>
    internal sealed record FeedAdded(string Id, int Items);
}
