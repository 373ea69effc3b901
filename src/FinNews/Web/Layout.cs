using System.Text.Encodings.Web;

namespace FinNews.Web;

/// <summary>The page frame shared by every server-rendered page. No inline script or style: the CSP forbids both.</summary>
internal static class Layout
{
    public const string ContentSecurityPolicy =
        "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    public static IResult Page(string title, string body, int? refreshSeconds = null, int status = 200)
    {
        var e = HtmlEncoder.Default;
        var refresh = refreshSeconds is { } s ? $"<meta http-equiv=\"refresh\" content=\"{s}\">" : "";
        var html = $"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">{refresh}
            <title>{e.Encode(title)} · FinNews</title><link rel="stylesheet" href="/static/site.css"></head>
            <body><header class="site"><a class="brand" href="/">FinNews</a><nav><a href="/">Latest</a><a href="/briefings">Briefings</a><a href="/search">Search</a><a href="/ask">Ask</a><a href="/markets">Markets</a><a href="/feeds">Feeds</a></nav></header>
            <main>{body}</main></body></html>
            """;
        return Results.Content(html, "text/html; charset=utf-8", statusCode: status);
    }

    /// <summary>
    /// Security headers on every response, error responses included: they are set as the response starts, so the
    /// exception handler clearing the response (a 500, a 413) cannot drop them. Register first in the pipeline.
    /// </summary>
    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        context.Response.OnStarting(static state =>
        {
            var headers = ((HttpResponse)state).Headers;
            headers.ContentSecurityPolicy = ContentSecurityPolicy;
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "no-referrer";
            headers.XFrameOptions = "DENY";
            return Task.CompletedTask;
        }, context.Response);
        await next();
    });
}
