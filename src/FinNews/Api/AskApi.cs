using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using FinNews.Core.Briefing;

namespace FinNews.Api;

/// <summary>POST /api/v1/ask: retrieval plus the writer, an answer with citations; SSE with Accept: text/event-stream.</summary>
internal static class AskApi
{
    public static void MapAskApi(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/api/v1/ask").WithTags("Ask").RequireScope(FinNews.Core.Access.ApiScopes.Reader).MapPost("/", async (HttpContext context, AnswerService answers) =>
        {
            AskRequest? request;
            try
            {
                request = await JsonSerializer.DeserializeAsync(context.Request.Body, AskJsonContext.Default.AskRequest, context.RequestAborted);
            }
            catch (JsonException ex)
            {
                return Results.Problem(title: "Bad request body", detail: $"Expected {{\"question\": \"...\", \"asOf\": \"ISO 8601\"}}: {ex.Message}", statusCode: 400);
            }

            if (string.IsNullOrWhiteSpace(request?.Question))
            {
                return Results.Problem(title: "Missing question", detail: "The body needs a non-empty \"question\".", statusCode: 400);
            }

            if (request.Question.Length > 2000)
            {
                return Results.Problem(title: "Question too long", detail: "A question is at most 2000 characters.", statusCode: 400);
            }

            DateTimeOffset? asOf = null;
            if (request.AsOf is { } text)
            {
                if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
                {
                    return Results.Problem(title: "Bad asOf", detail: $"asOf '{text}' is not an ISO 8601 instant.", statusCode: 400);
                }

                asOf = parsed.ToUniversalTime();
            }

            if (!context.Request.Headers.Accept.ToString().Contains("text/event-stream", StringComparison.OrdinalIgnoreCase))
            {
                return Results.Json(await answers.AskAsync(request.Question, asOf, context.RequestAborted), AnswerJsonContext.Default.Answer);
            }

            context.Response.ContentType = "text/event-stream";
            context.Response.Headers.CacheControl = "no-cache";
            await foreach (var e in answers.AskStreamingAsync(request.Question, asOf, context.RequestAborted))
            {
                await context.Response.WriteAsync($"event: {e.Type}\ndata: {JsonSerializer.Serialize(e, AnswerJsonContext.Default.AnswerEvent)}\n\n", context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
            }

            return Results.Empty;
        }).WithAskDocumentation();
    }

    internal sealed record AskRequest(string? Question, string? AsOf);
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(AskApi.AskRequest))]
internal sealed partial class AskJsonContext : JsonSerializerContext;
