using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text.Encodings.Web;
using FinNews.Core.Access;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.Extensions.Options;

namespace FinNews.Web;

/// <summary>
/// With Auth:Enabled, the pages need the same API keys as the API. The /login form checks a key and sets an HttpOnly,
/// SameSite=Strict cookie holding an opaque session: the key's id and an expiry, encrypted and signed with ASP.NET Core
/// Data Protection (never the key itself). Every page request unprotects it, loads the key by id (a revoked key's
/// sessions stop at once) and counts against the key's per-minute limit, the same budget as its API calls.
/// /health, /static, /favicon.ico (browsers fetch it with every page; it must not spend the key's budget), /login,
/// /logout and the unsubscribe links stay open; /api has its own checks.
/// </summary>
internal static class PageAuth
{
    /// <summary>The session cookie.</summary>
    public const string Cookie = "finnews_session";

    /// <summary>The cookie earlier versions kept the raw key in; removed at sign-in and sign-out.</summary>
    public const string LegacyCookie = "finnews_key";

    /// <summary>Folder of the Data Protection key ring, under the data folder.</summary>
    public const string KeyRingFolder = "keys";

    private const string SessionItem = "FinNews.PageSession";
    private const string Purpose = "FinNews.PageSession.v1";

    /// <summary>
    /// Data Protection with its key ring in the data folder (<c>data/keys</c>) under a fixed application name, so sessions
    /// and form tokens survive restarts and are accepted by every serve node sharing the data volume.
    /// </summary>
    /// <param name="builder">The web host's builder.</param>
    /// <param name="dataDirectory">The data folder the key ring goes under (resolved by the host that composes the pages).</param>
    public static void AddPageAuth(this IHostApplicationBuilder builder, Func<IServiceProvider, string> dataDirectory)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(dataDirectory);
        builder.Services.AddOptions<AuthOptions>().ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<AuthOptions>, AuthOptionsValidator>();
        builder.Services.AddDataProtection().SetApplicationName("FinNews");
        builder.Services.AddSingleton<IConfigureOptions<KeyManagementOptions>>(sp => new ConfigureOptions<KeyManagementOptions>(o =>
        {
            o.XmlRepository = new FileSystemXmlRepository(new DirectoryInfo(Path.Combine(dataDirectory(sp), KeyRingFolder)), sp.GetRequiredService<ILoggerFactory>());
        }));
    }

    /// <summary>The key of this request's page session, when it has one (Auth:Enabled and signed in).</summary>
    public static ApiKey? SessionKey(HttpContext context) =>
        context?.Items.TryGetValue(SessionItem, out var value) == true ? value as ApiKey : null;

    public static IApplicationBuilder UsePageAuth(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var path = context.Request.Path;
        var open = path.StartsWithSegments("/api") || path.StartsWithSegments("/health") || path.StartsWithSegments("/ready") || path.StartsWithSegments("/static")
            || path.StartsWithSegments("/login") || path.StartsWithSegments("/logout") || path.StartsWithSegments("/unsubscribe")
            || path.StartsWithSegments("/openapi") || path.Equals("/favicon.ico", StringComparison.OrdinalIgnoreCase);
        if (open || !context.RequestServices.GetRequiredService<IOptions<AuthOptions>>().Value.Enabled)
        {
            await next();
            return;
        }

        var key = ReadSession(context);
        if (key is null)
        {
            if (context.Request.Cookies.ContainsKey(Cookie))
            {
                DeleteCookie(context, Cookie); // expired, revoked, or not from this service: sign in again
            }

            context.Response.Redirect("/login?return=" + Uri.EscapeDataString(path + context.Request.QueryString));
            return;
        }

        if (!context.RequestServices.GetRequiredService<ApiKeyRateLimiter>().TryAcquire(key, out var retryAfter))
        {
            var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
            context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            await Layout.Page("Too many requests", string.Create(CultureInfo.InvariantCulture,
                $"<h1>Too many requests</h1><p class=\"error\">Key {HtmlEncoder.Default.Encode(key.Prefix)}… is limited to {key.RequestsPerMinute} requests per minute (pages and API together). Try again in {seconds} s.</p>"),
                status: StatusCodes.Status429TooManyRequests).ExecuteAsync(context);
            return;
        }

        context.Items[SessionItem] = key;
        await next();
    });

    public static void MapLogin(this IEndpointRouteBuilder app)
    {
        app.MapGet("/login", (HttpContext context, IAntiforgery antiforgery, IOptions<AuthOptions> auth, string? @return) =>
        {
            if (!auth.Value.Enabled)
            {
                return SignInOff();
            }

            var e = HtmlEncoder.Default;
            return Layout.Page("Sign in", $"""
                <h1>Sign in</h1><p class="muted">Use a FinNews API key: reader to read, editor to also edit and approve briefings (finnews keys create --scope reader|editor|admin).</p>
                <form method="post" action="/login">{Layout.AntiforgeryField(antiforgery, context)}
                <input type="hidden" name="return" value="{e.Encode(SafeReturn(@return))}">
                <label>API key <input type="password" name="key" required autocomplete="current-password"></label> <button type="submit">Sign in</button></form>
                """);
        }).ExcludeFromDescription();

        app.MapPost("/login", async (HttpContext context, IAntiforgery antiforgery, IApiKeyStore keys, TimeProvider time, IOptions<AuthOptions> auth) =>
        {
            if (!auth.Value.Enabled)
            {
                return SignInOff();
            }

            if (await Layout.RefuseFormAsync(antiforgery, context) is { } refused)
            {
                return refused;
            }

            var form = await context.Request.ReadFormAsync();
            var key = keys.Authenticate(form["key"].ToString().Trim());
            if (key is null)
            {
                return Layout.Page("Sign in", "<h1>Sign in</h1><p class=\"error\">That key is not valid (or was revoked).</p><p><a href=\"/login\">Try again</a></p>", status: 401);
            }

            var lifetime = TimeSpan.FromHours(auth.Value.SessionHours);
            var expires = time.GetUtcNow() + lifetime;
            var payload = string.Create(CultureInfo.InvariantCulture, $"{key.Id}:{key.CreatedAt.ToUnixTimeMilliseconds()}:{expires.ToUnixTimeMilliseconds()}");
            context.Response.Cookies.Append(Cookie, Protector(context).Protect(payload), CookieOptions(context, lifetime));
            DeleteCookie(context, LegacyCookie);
            return Results.Redirect(SafeReturn(form["return"].ToString()));
        }).ExcludeFromDescription();

        app.MapPost("/logout", async (HttpContext context, IAntiforgery antiforgery) =>
        {
            if (await Layout.RefuseFormAsync(antiforgery, context) is { } refused)
            {
                return refused;
            }

            DeleteCookie(context, Cookie);
            DeleteCookie(context, LegacyCookie);
            return Results.Redirect("/login");
        }).ExcludeFromDescription();
    }

    // With Auth:Enabled off there are no sessions: pages are open to this machine only, so there is nothing to sign in to.
    private static IResult SignInOff() => Layout.Page("Sign in",
        "<h1>Sign-in is off</h1><p>This server runs without access control (<code>Auth:Enabled</code> is false): its pages answer requests from this machine only, and there is nothing to sign in to.</p><p><a href=\"/\">Today's briefing</a></p>",
        status: 404);

    /// <summary>
    /// A return path kept after sign-in: a local path of printable ASCII only. "//host", "/\host", and paths with control
    /// characters (a browser drops tabs and newlines, so "/&lt;TAB&gt;/evil.example" becomes "//evil.example"),
    /// backslashes, spaces or non-ASCII fall back to "/".
    /// </summary>
    internal static string SafeReturn(string? path) =>
        !string.IsNullOrEmpty(path) && path.Length <= 2000 && path[0] == '/' && !path.StartsWith("//", StringComparison.Ordinal)
            && path.All(ch => ch is > ' ' and <= '~' and not '\\')
            ? path
            : "/";

    /// <summary>
    /// True when the request came straight from this machine: a loopback peer, no proxy forwarding headers (a reverse
    /// proxy on the same host makes every visitor look local), and a loopback Host (no DNS rebinding).
    /// </summary>
    internal static bool IsLocalRequest(HttpContext context, out string why)
    {
        var remote = context.Connection.RemoteIpAddress;
        if (remote is { IsIPv4MappedToIPv6: true })
        {
            remote = remote.MapToIPv4();
        }

        if (remote is null || !IPAddress.IsLoopback(remote))
        {
            why = $"this request came from {remote?.ToString() ?? "an unknown address"}, not from this machine";
            return false;
        }

        var headers = context.Request.Headers;
        foreach (var forwarded in new[] { "Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Real-IP" })
        {
            if (headers.ContainsKey(forwarded))
            {
                why = $"this request came through a proxy ({forwarded} header)";
                return false;
            }
        }

        var host = context.Request.Host.Host;
        if (!string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
            && !(IPAddress.TryParse(host.Trim('[', ']'), out var hostAddress) && IPAddress.IsLoopback(hostAddress)))
        {
            why = $"this request was addressed to host '{host}', not to localhost";
            return false;
        }

        why = "";
        return true;
    }

    private static ApiKey? ReadSession(HttpContext context)
    {
        var value = context.Request.Cookies[Cookie];
        if (string.IsNullOrEmpty(value) || value.Length > 4096)
        {
            return null;
        }

        string payload;
        try
        {
            payload = Protector(context).Unprotect(value);
        }
        catch (Exception ex) when (ex is CryptographicException or FormatException)
        {
            return null; // tampered with, or protected by a key ring this service does not have
        }

        var parts = payload.Split(':');
        if (parts.Length != 3
            || !long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var id)
            || !long.TryParse(parts[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var created)
            || !long.TryParse(parts[2], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var expires))
        {
            return null;
        }

        if (context.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow().ToUnixTimeMilliseconds() >= expires)
        {
            return null;
        }

        // The creation time guards against a recreated database handing the same id to another key.
        var key = context.RequestServices.GetRequiredService<IApiKeyStore>().FindActive(id);
        return key is not null && key.CreatedAt.ToUnixTimeMilliseconds() == created ? key : null;
    }

    private static IDataProtector Protector(HttpContext context) =>
        context.RequestServices.GetRequiredService<IDataProtectionProvider>().CreateProtector(Purpose);

    private static CookieOptions CookieOptions(HttpContext context, TimeSpan? maxAge = null) => new()
    {
        HttpOnly = true,
        SameSite = SameSiteMode.Strict,
        Secure = context.Request.IsHttps,
        Path = "/",
        MaxAge = maxAge,
    };

    private static void DeleteCookie(HttpContext context, string name)
    {
        if (context.Request.Cookies.ContainsKey(name))
        {
            context.Response.Cookies.Delete(name, CookieOptions(context));
        }
    }
}
