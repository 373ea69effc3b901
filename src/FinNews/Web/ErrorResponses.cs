using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Diagnostics;

namespace FinNews.Web;

/// <summary>
/// What a client sees when a request fails outside an endpoint's own checks: never a stack trace. API clients (and
/// anything not asking for HTML) get ProblemDetails; browsers get a page in the site's frame. A request the server
/// refused as malformed (a body over the 1 MiB limit: 413; a bad header: 400) keeps its status; anything else is a 500
/// that is logged with its exception and shown without it.
/// </summary>
internal static class ErrorResponses
{
    public static IApplicationBuilder UseErrorResponses(this IApplicationBuilder app)
    {
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            StatusCodeSelector = StatusFor,
            ExceptionHandler = WriteAsync,
            // A refused request is the client's mistake, not a fault worth an error log with a stack trace.
            SuppressDiagnosticsCallback = context => context.Exception is BadHttpRequestException,
        });
        app.UseStatusCodePages(WriteStatusAsync);
        return app;
    }

    private static int StatusFor(Exception exception) => exception is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status500InternalServerError;

    private static Task WriteAsync(HttpContext context)
    {
        var exception = context.Features.Get<IExceptionHandlerFeature>()?.Error;
        var status = exception is null ? StatusCodes.Status500InternalServerError : StatusFor(exception);
        var (title, detail) = status switch
        {
            StatusCodes.Status413PayloadTooLarge => ("Request body too large", "Request bodies are limited to 1 MiB."),
            StatusCodes.Status500InternalServerError => ("Server error", "Something went wrong on our side; it has been logged. Try again, or tell the operator."),
            _ => ("Bad request", BadRequestDetail(exception)),
        };
        return WriteAsync(context, status, title, detail);
    }

    /// <summary>
    /// The framework's message names the parameter it could not bind and the value (<c>Failed to bind parameter
    /// "long id" from "x".</c>); for a body that is not valid JSON it says only that, so the JSON reader's own message,
    /// which gives the property path and position, follows it.
    /// </summary>
    private static string BadRequestDetail(Exception? exception) => exception switch
    {
        null => "The request could not be read.",
        { InnerException: System.Text.Json.JsonException json } => $"{exception.Message} {json.Message}",
        _ => exception.Message,
    };

    private static Task WriteStatusAsync(StatusCodeContext status)
    {
        var context = status.HttpContext;
        var code = context.Response.StatusCode;
        var (title, detail) = code switch
        {
            StatusCodes.Status404NotFound => ("Not found", $"Nothing at {context.Request.Path}."),
            StatusCodes.Status405MethodNotAllowed => ("Method not allowed", $"{context.Request.Method} is not allowed on {context.Request.Path}."),
            // Set by a JSON body binding, without an exception even under ThrowOnBadRequest.
            StatusCodes.Status415UnsupportedMediaType => ("Unsupported media type",
                $"{context.Request.Method} {context.Request.Path} takes a JSON body (Content-Type: application/json), not '{context.Request.ContentType}'."),
            _ => ("Request failed", $"The request failed with status {code}."),
        };
        return WriteAsync(context, code, title, detail);
    }

    private static async Task WriteAsync(HttpContext context, int status, string title, string detail)
    {
        context.Response.StatusCode = status;
        if (WantsHtml(context.Request))
        {
            var e = HtmlEncoder.Default;
            var page = Layout.Page(title, $"<h1>{e.Encode(title)}</h1><p class=\"error\">{e.Encode(detail)}</p><p><a href=\"/\">Latest briefing</a></p>", status: status);
            await page.ExecuteAsync(context);
            return;
        }

        var problems = context.RequestServices.GetRequiredService<IProblemDetailsService>();
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = { Status = status, Title = title, Detail = detail },
        });
    }

    // Pages are everything outside /api and /openapi that a browser asks for as HTML.
    private static bool WantsHtml(HttpRequest request) =>
        !request.Path.StartsWithSegments("/api") && !request.Path.StartsWithSegments("/openapi")
        && request.Headers.Accept.ToString().Contains("text/html", StringComparison.OrdinalIgnoreCase);
}
