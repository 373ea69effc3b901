using FinNews.Core.Delivery;

namespace FinNews.Api;

/// <summary>/api/v1/subscribers: digest subscribers, for admin keys only (refused while Auth:Enabled is false).</summary>
internal static class SubscribersApi
{
    public static void MapSubscribersApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/subscribers").WithTags("Subscribers").RequireAdmin();

        group.MapGet("/", (IDeliveryStore store) => TypedResults.Ok(store.ListSubscribers(includeInactive: true).Select(SubscriberView.From).ToList()))
            .WithSummary("Digest subscribers, active and unsubscribed (admin)");

        group.MapPost("/", (NewSubscriber body, IDeliveryStore store) =>
        {
            try
            {
                var s = store.AddSubscriber(body);
                return Results.Created($"/api/v1/subscribers/{s.Id}", SubscriberView.From(s));
            }
            catch (SubscriberValidationException ex)
            {
                return Results.Problem(title: "Invalid subscriber", detail: ex.Message, statusCode: 400);
            }
        })
            .WithSummary("Add a digest subscriber (admin)")
            .Produces<SubscriberView>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);

        group.MapDelete("/{id:long}", (long id, IDeliveryStore store) => store.GetSubscriber(id) is { } s && store.Unsubscribe(s.UnsubscribeToken)
            ? Results.NoContent()
            : Results.Problem(title: "Subscriber not found", detail: $"No active subscriber {id}.", statusCode: 404))
            .WithSummary("Unsubscribe a subscriber (admin)")
            .Produces(StatusCodes.Status204NoContent)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithParameters(SubscriberId);
    }

    private static readonly PathParameter SubscriberId = new("id", "A subscriber id (a whole number), as listed by GET /api/v1/subscribers.") { WholeNumber = true, Example = "1" };

    /// <summary>A subscriber as the API shows it: never the unsubscribe token.</summary>
    /// <param name="TimeZone">IANA time zone the schedule is read in.</param>
    /// <param name="Schedule">When digests go out, e.g. "daily 07:00" or "weekdays 07:00".</param>
    /// <param name="Sections">Briefing sections included (empty: all).</param>
    /// <param name="Tickers">Watchlist tickers followed (empty: all).</param>
    /// <param name="Active">False once unsubscribed.</param>
    internal sealed record SubscriberView(long Id, string Email, string TimeZone, string Schedule, IReadOnlyList<string> Sections,
        IReadOnlyList<string> Tickers, bool Active, DateTimeOffset CreatedAt)
    {
        public static SubscriberView From(Subscriber s) => new(s.Id, s.Email, s.TimeZone, s.Schedule, s.Sections, s.Tickers, s.Active, s.CreatedAt);
    }
}
