using FinNews.Core.Delivery;

namespace FinNews.Api;

/// <summary>/api/v1/subscribers: digest subscribers, for admin keys only (refused while Auth:Enabled is false).</summary>
internal static class SubscribersApi
{
    public static void MapSubscribersApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/subscribers").WithTags("Subscribers").RequireAdmin();

        group.MapGet("/", (DeliveryStore store) => Results.Ok(store.ListSubscribers(includeInactive: true)
            .Select(s => new { s.Id, s.Email, s.TimeZone, s.Schedule, s.Sections, s.Tickers, s.Active, s.CreatedAt })));

        group.MapPost("/", (NewSubscriber body, DeliveryStore store) =>
        {
            try
            {
                var s = store.AddSubscriber(body);
                return Results.Created($"/api/v1/subscribers/{s.Id}", new { s.Id, s.Email, s.TimeZone, s.Schedule, s.Sections, s.Tickers });
            }
            catch (SubscriberValidationException ex)
            {
                return Results.Problem(title: "Invalid subscriber", detail: ex.Message, statusCode: 400);
            }
        });

        group.MapDelete("/{id:long}", (long id, DeliveryStore store) => store.GetSubscriber(id) is { } s && store.Unsubscribe(s.UnsubscribeToken)
            ? Results.NoContent()
            : Results.Problem(title: "Subscriber not found", detail: $"No active subscriber {id}.", statusCode: 404));
    }
}
