using System.Globalization;
using FinNews.Core.Access;
using Microsoft.Extensions.Options;

namespace FinNews.Api;

/// <summary>
/// Guards a route group with an API key (<c>Authorization: Bearer &lt;key&gt;</c> or <c>X-Api-Key: &lt;key&gt;</c>) of at
/// least a given scope, and the key's per-minute rate limit.
/// </summary>
/// <remarks>
/// Answers are ProblemDetails: 401 with no key or an unknown or revoked key, 403 when the key's scope is too weak
/// (admin includes editor, which includes reader), 429 with <c>Retry-After</c> (whole seconds) over the key's limit. The authenticated
/// <see cref="ApiKey"/> record (never the key) is put in <see cref="HttpContext.Items"/> under <see cref="ItemKey"/>.
/// Needs <see cref="IApiKeyStore"/> and <see cref="ApiKeyRateLimiter"/> registered when <see cref="AuthOptions.Enabled"/>.
/// </remarks>
public static class ApiAuth
{
    /// <summary>The <see cref="HttpContext.Items"/> key of the authenticated <see cref="ApiKey"/>.</summary>
    public const string ItemKey = "FinNews.ApiKey";

    /// <summary>The header an API key may also be sent in.</summary>
    public const string ApiKeyHeader = "X-Api-Key";

    /// <summary>Requires a key holding <paramref name="scope"/> (or a stronger one) for every endpoint of the group.</summary>
    public static RouteGroupBuilder RequireScope(this RouteGroupBuilder group, string scope)
    {
        ArgumentNullException.ThrowIfNull(group);
        if (!ApiScopes.All.Contains(scope, StringComparer.Ordinal))
        {
            throw new ArgumentException($"scope = '{scope}': unknown scope.", nameof(scope));
        }

        group.AddEndpointFilter(async (context, next) => Check(context.HttpContext, scope) ?? await next(context));
        return group.WithMetadata(new ApiScopeMetadata(scope))
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);
    }

    /// <summary>
    /// Admin endpoints: an admin key when Auth:Enabled is true; refused (403) while it is false, so the anonymous
    /// embedded default never lets anyone change feeds or subscribers over HTTP.
    /// </summary>
    public static RouteGroupBuilder RequireAdmin(this RouteGroupBuilder group)
    {
        ArgumentNullException.ThrowIfNull(group);
        group.AddEndpointFilter(async (context, next) =>
            context.HttpContext.RequestServices.GetService<IOptions<AuthOptions>>()?.Value is { Enabled: true }
                ? await next(context)
                : Results.Problem(title: "Admin API disabled",
                    detail: "Set Auth:Enabled to true and use an admin key (finnews keys create --scope admin) for this over HTTP.",
                    statusCode: StatusCodes.Status403Forbidden));
        return group.WithMetadata(new AdminApiMetadata()).RequireScope(ApiScopes.Admin);
    }

    /// <summary>The authenticated key of this request, if any.</summary>
    public static ApiKey? CurrentApiKey(this HttpContext context) =>
        context?.Items.TryGetValue(ItemKey, out var value) == true ? value as ApiKey : null;

    private static IResult? Check(HttpContext context, string scope)
    {
        var services = context.RequestServices;
        if (services.GetService<IOptions<AuthOptions>>()?.Value is not { Enabled: true })
        {
            return null;
        }

        var presented = PresentedKey(context.Request);
        var key = presented is null ? null : services.GetRequiredService<IApiKeyStore>().Authenticate(presented);
        if (key is null)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            return Results.Problem(title: "Unauthorized",
                detail: presented is null
                    ? $"An API key is required (Authorization: Bearer <key> or {ApiKeyHeader}: <key>)."
                    : "The API key is not valid or has been revoked.",
                statusCode: StatusCodes.Status401Unauthorized);
        }

        context.Items[ItemKey] = key;
        if (!ApiScopes.Satisfies(key.Scope, scope))
        {
            return Results.Problem(title: "Forbidden", detail: $"This endpoint needs the '{scope}' scope; key {key.Prefix}… has '{key.Scope}'.",
                statusCode: StatusCodes.Status403Forbidden);
        }

        if (!services.GetRequiredService<ApiKeyRateLimiter>().TryAcquire(key, out var retryAfter))
        {
            var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
            context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            return Results.Problem(title: "Too many requests",
                detail: string.Create(CultureInfo.InvariantCulture, $"Key {key.Prefix}… is limited to {key.RequestsPerMinute} requests per minute; retry in {seconds} s."),
                statusCode: StatusCodes.Status429TooManyRequests);
        }

        return null;
    }

    private static string? PresentedKey(HttpRequest request)
    {
        var authorization = request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            var token = authorization["Bearer ".Length..].Trim();
            return token.Length == 0 ? null : token;
        }

        var header = request.Headers[ApiKeyHeader].ToString().Trim();
        return header.Length == 0 ? null : header;
    }
}
