using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Antiforgery;

namespace FinNews.Web;

/// <summary>The page frame shared by every server-rendered page. No inline script or style: the CSP forbids both.</summary>
internal static class Layout
{
    public const string ContentSecurityPolicy =
        "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    /// <summary>
    /// A page in the site frame. When the request is signed in (Auth:Enabled), the header names the key and offers a
    /// sign-out form.
    /// </summary>
    public static IResult Page(string title, string body, int? refreshSeconds = null, int status = 200) =>
        new PageResult(title, body, refreshSeconds, status);

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

    /// <summary>The hidden antiforgery field for a form on this request's page.</summary>
    public static string AntiforgeryField(IAntiforgery antiforgery, HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(antiforgery);
        var tokens = antiforgery.GetAndStoreTokens(context);
        var e = HtmlEncoder.Default;
        return $"<input type=\"hidden\" name=\"{e.Encode(tokens.FormFieldName)}\" value=\"{e.Encode(tokens.RequestToken ?? "")}\">";
    }

    /// <summary>
    /// Null when the posted form carries this site's antiforgery token; otherwise the page to answer with: 400 for a
    /// missing or expired token or a form that cannot be read (a NUL or malformed encoding), 413 for one over the body
    /// limit. Never a 500.
    /// </summary>
    public static async Task<IResult?> RefuseFormAsync(IAntiforgery antiforgery, HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(antiforgery);
        try
        {
            return await antiforgery.IsRequestValidAsync(context)
                ? null
                : Page("Refused", "<h1>Refused</h1><p class=\"error\">The form expired or did not come from this site; reload the page and try again.</p>", status: 400);
        }
        catch (Exception ex) when (ex is AntiforgeryValidationException or InvalidDataException or BadHttpRequestException)
        {
            var tooLarge = (ex as BadHttpRequestException ?? ex.InnerException as BadHttpRequestException)?.StatusCode == StatusCodes.Status413PayloadTooLarge;
            return tooLarge
                ? Page("Refused", "<h1>Refused</h1><p class=\"error\">The form is larger than the 1 MiB this site accepts.</p>", status: StatusCodes.Status413PayloadTooLarge)
                : Page("Refused", "<h1>Refused</h1><p class=\"error\">The form could not be read: it contains characters or encoding that are not allowed (such as a NUL character).</p>", status: 400);
        }
    }

    private sealed class PageResult(string title, string body, int? refreshSeconds, int status) : IResult, IStatusCodeHttpResult
    {
        public int? StatusCode => status;

        public Task ExecuteAsync(HttpContext httpContext)
        {
            var e = HtmlEncoder.Default;
            var refresh = refreshSeconds is { } s ? $"<meta http-equiv=\"refresh\" content=\"{s}\">" : "";
            var account = "";
            if (PageAuth.SessionKey(httpContext) is { } key && httpContext.RequestServices.GetService<IAntiforgery>() is { } antiforgery)
            {
                account = $"<form class=\"account\" method=\"post\" action=\"/logout\">{AntiforgeryField(antiforgery, httpContext)}"
                    + $"<span class=\"muted\">{e.Encode(key.Name)} ({e.Encode(key.Scope)})</span> <button type=\"submit\">Sign out</button></form>";
            }

            var html = $"""
                <!DOCTYPE html>
                <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">{refresh}
                <title>{e.Encode(title)} · FinNews</title><link rel="stylesheet" href="/static/site.css"></head>
                <body><header class="site"><a class="brand" href="/">FinNews</a><nav><a href="/">Latest</a><a href="/briefings">Briefings</a><a href="/search">Search</a><a href="/ask">Ask</a><a href="/markets">Markets</a><a href="/feeds">Feeds</a></nav>{account}</header>
                <main>{body}</main></body></html>
                """;
            return Results.Content(html, "text/html; charset=utf-8", statusCode: status).ExecuteAsync(httpContext);
        }
    }
}
