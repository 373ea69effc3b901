using System.Text.Encodings.Web;
using FinNews.Api;
using FinNews.Core.Access;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.Extensions.Options;

namespace FinNews.Web;

/// <summary>
/// With Auth:Enabled, the pages need the same API keys as the API: a /login form checks the key and keeps it in an
/// HttpOnly, SameSite=Strict cookie. /health, /static, /login and the unsubscribe links stay open; /api has its own checks.
/// </summary>
internal static class PageAuth
{
    public const string Cookie = "finnews_key";

    public static IApplicationBuilder UsePageAuth(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var path = context.Request.Path;
        var open = path.StartsWithSegments("/api") || path.StartsWithSegments("/health") || path.StartsWithSegments("/static")
            || path.StartsWithSegments("/login") || path.StartsWithSegments("/unsubscribe") || path.StartsWithSegments("/openapi");
        if (open || !context.RequestServices.GetRequiredService<IOptions<AuthOptions>>().Value.Enabled)
        {
            await next();
            return;
        }

        var key = context.Request.Cookies[Cookie];
        if (key is not null && context.RequestServices.GetRequiredService<ApiKeyStore>().Authenticate(key) is not null)
        {
            await next();
            return;
        }

        context.Response.Redirect("/login?return=" + Uri.EscapeDataString(path + context.Request.QueryString));
    });

    public static void MapLogin(this IEndpointRouteBuilder app)
    {
        app.MapGet("/login", (HttpContext context, IAntiforgery antiforgery, string? @return) =>
        {
            var tokens = antiforgery.GetAndStoreTokens(context);
            var e = HtmlEncoder.Default;
            return Layout.Page("Sign in", $"""
                <h1>Sign in</h1><p class="muted">Use a FinNews API key (finnews keys create --scope reader).</p>
                <form method="post" action="/login"><input type="hidden" name="{e.Encode(tokens.FormFieldName)}" value="{e.Encode(tokens.RequestToken ?? "")}">
                <input type="hidden" name="return" value="{e.Encode(SafeReturn(@return))}">
                <label>API key <input type="password" name="key" required autocomplete="current-password"></label> <button type="submit">Sign in</button></form>
                """);
        }).ExcludeFromDescription();

        app.MapPost("/login", async (HttpContext context, IAntiforgery antiforgery, ApiKeyStore keys) =>
        {
            if (!await antiforgery.IsRequestValidAsync(context))
            {
                return Layout.Page("Refused", "<h1>Refused</h1><p class=\"error\">The form expired; reload and try again.</p>", status: 400);
            }

            var form = await context.Request.ReadFormAsync();
            var key = form["key"].ToString().Trim();
            if (keys.Authenticate(key) is null)
            {
                return Layout.Page("Sign in", "<h1>Sign in</h1><p class=\"error\">That key is not valid (or was revoked).</p><p><a href=\"/login\">Try again</a></p>", status: 401);
            }

            context.Response.Cookies.Append(Cookie, key, new CookieOptions
            {
                HttpOnly = true,
                SameSite = SameSiteMode.Strict,
                Secure = context.Request.IsHttps,
                MaxAge = TimeSpan.FromDays(7),
            });
            return Results.Redirect(SafeReturn(form["return"].ToString()));
        }).ExcludeFromDescription();
    }

    // Only local paths: "/briefings/x", never "//evil.example" or "https://...".
    private static string SafeReturn(string? path) =>
        !string.IsNullOrEmpty(path) && path.StartsWith('/') && !path.StartsWith("//", StringComparison.Ordinal) && !path.StartsWith("/\\", StringComparison.Ordinal)
            ? path
            : "/";
}
