using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using FinNews.Api;
using FinNews.Core.Access;
using FinNews.Core.Storage.Sqlite;
using FinNews.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace FinNews.Tests.Access;

public sealed class ApiAuthTests : IDisposable
{
    private readonly TestEnvironment _env = TestEnvironment.Create();
    private readonly ManualTimeProvider _clock = new(new DateTimeOffset(2025, 3, 4, 9, 0, 0, TimeSpan.Zero));

    public void Dispose() => _env.Dispose();

    private async Task<(WebApplication App, HttpClient Http, SqliteApiKeyStore Keys)> Start(bool enabled)
    {
        var sqlite = new SqliteStore(_env.DatabasePath);
        sqlite.Initialize();
        var keys = new SqliteApiKeyStore(sqlite.ConnectionString, _clock);
        keys.Initialize();

        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddSingleton<IApiKeyStore>(keys);
        builder.Services.AddSingleton(new ApiKeyRateLimiter(_clock));
        builder.Services.Configure<AuthOptions>(o => o.Enabled = enabled);
        var app = builder.Build();
        app.MapGet("/health", () => Results.Ok(new { status = "ok" }));
        var api = app.MapGroup("/api");
        api.MapGroup("/read").RequireScope(ApiScopes.Reader).MapGet("/", (HttpContext c) => Results.Ok(new { key = c.CurrentApiKey()?.Name }));
        api.MapGroup("/admin").RequireScope(ApiScopes.Admin).MapGet("/", () => Results.Ok(new { ok = true }));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return (app, new HttpClient { BaseAddress = new Uri(address), Timeout = TimeSpan.FromSeconds(10) }, keys);
    }

    private static HttpRequestMessage Get(string path, string? bearer = null, string? header = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        if (header is not null)
        {
            request.Headers.Add("X-Api-Key", header);
        }

        return request;
    }

    [Fact]
    public async Task Keys_and_scopes_decide_401_403_and_200_over_real_http()
    {
        var (app, http, keys) = await Start(enabled: true);
        await using var _ = app;
        using var __ = http;
        var reader = keys.Create("reader bot", ApiScopes.Reader);
        var admin = keys.Create("ops", ApiScopes.Admin);

        using var none = await http.SendAsync(Get("/api/read"));
        none.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        none.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        none.Headers.WwwAuthenticate.ToString().Should().Be("Bearer");
        (await http.SendAsync(Get("/api/read", bearer: "fn_wrong"))).StatusCode.Should().Be(HttpStatusCode.Unauthorized);

        using var forbidden = await http.SendAsync(Get("/api/admin", bearer: reader.Key));
        forbidden.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        forbidden.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        (await forbidden.Content.ReadAsStringAsync()).Should().NotContain(reader.Key, "the key is never echoed");

        using var ok = await http.SendAsync(Get("/api/read", bearer: admin.Key));
        ok.StatusCode.Should().Be(HttpStatusCode.OK, "admin includes reader");
        JsonDocument.Parse(await ok.Content.ReadAsStringAsync()).RootElement.GetProperty("key").GetString().Should().Be("ops");
        (await http.SendAsync(Get("/api/read", header: reader.Key))).StatusCode.Should().Be(HttpStatusCode.OK, "X-Api-Key works too");
        (await http.SendAsync(Get("/api/admin", bearer: admin.Key))).StatusCode.Should().Be(HttpStatusCode.OK);
        (await http.SendAsync(Get("/health"))).StatusCode.Should().Be(HttpStatusCode.OK, "/health is anonymous");

        keys.Revoke(admin.Record.Prefix).Should().BeTrue();
        (await http.SendAsync(Get("/api/read", bearer: admin.Key))).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_key_over_its_limit_gets_429_with_retry_after()
    {
        var (app, http, keys) = await Start(enabled: true);
        await using var _ = app;
        using var __ = http;
        var key = keys.Create("tight", ApiScopes.Reader, requestsPerMinute: 3);
        var other = keys.Create("other", ApiScopes.Reader, requestsPerMinute: 3);

        for (var i = 0; i < 3; i++)
        {
            (await http.SendAsync(Get("/api/read", bearer: key.Key))).StatusCode.Should().Be(HttpStatusCode.OK);
        }

        _clock.Now = _clock.Now.AddSeconds(15);
        using var limited = await http.SendAsync(Get("/api/read", bearer: key.Key));
        limited.StatusCode.Should().Be((HttpStatusCode)429);
        limited.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        limited.Headers.RetryAfter!.Delta.Should().Be(TimeSpan.FromSeconds(45));
        (await http.SendAsync(Get("/api/read", bearer: other.Key))).StatusCode.Should().Be(HttpStatusCode.OK, "limits are per key");

        _clock.Now = _clock.Now.AddSeconds(45);
        (await http.SendAsync(Get("/api/read", bearer: key.Key))).StatusCode.Should().Be(HttpStatusCode.OK, "the next window");
    }

    [Fact]
    public async Task With_auth_disabled_anonymous_calls_go_through()
    {
        var (app, http, _) = await Start(enabled: false);
        await using var __ = app;
        using var ___ = http;

        (await http.SendAsync(Get("/api/read"))).StatusCode.Should().Be(HttpStatusCode.OK);
        (await http.SendAsync(Get("/api/admin"))).StatusCode.Should().Be(HttpStatusCode.OK);
        (await http.SendAsync(Get("/api/admin", bearer: "fn_garbage"))).StatusCode.Should().Be(HttpStatusCode.OK);
    }
}
