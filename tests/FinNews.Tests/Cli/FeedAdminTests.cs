using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FinNews.Hosting;
using FinNews.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace FinNews.Tests.Cli;

/// <summary>Adding and removing feeds: validated (scheme, reachable, parseable) before anything is saved.</summary>
public class FeedAdminTests
{
    [Fact]
    public async Task Feeds_add_checks_the_feed_before_saving_and_remove_takes_it_out()
    {
        using var env = TestEnvironment.Create();
        await using var server = await FeedServer();
        var feedsFile = Path.Combine(env.ConfigDirectory, "feeds.json");
        var original = await File.ReadAllTextAsync(feedsFile);

        var refusedPrivate = await FinNewsProcess.RunAsync("feeds", "add", "--id", "local", "--name", "Local", "--url", server.Url + "rss", "--config", env.ConfigDirectory);
        var refusedJunk = await FinNewsProcess.RunAsync("feeds", "add", "--id", "junk", "--name", "Junk", "--url", server.Url + "junk", "--internal", "--config", env.ConfigDirectory);
        var refusedScheme = await FinNewsProcess.RunAsync("feeds", "add", "--id", "ftp", "--name", "Ftp", "--url", "ftp://x.example/rss", "--config", env.ConfigDirectory);

        refusedPrivate.Code.Should().Be(1);
        refusedPrivate.Err.Should().Contain("loopback").And.Contain("internal");
        refusedJunk.Code.Should().Be(1);
        refusedJunk.Err.Should().Contain("junk").And.Contain("not XML");
        refusedScheme.Code.Should().Be(3);
        refusedScheme.Err.Should().Contain("ftp://x.example/rss");
        (await File.ReadAllTextAsync(feedsFile)).Should().Be(original, "nothing is saved for a refused feed");

        var added = await FinNewsProcess.RunAsync("feeds", "add", "--id", "local", "--name", "Local Wire", "--url", server.Url + "rss", "--internal", "--interval", "10", "--config", env.ConfigDirectory);
        added.Code.Should().Be(0, added.Err);
        added.Out.Should().Contain("2 items");
        var ingest = await FinNewsProcess.RunAsync("ingest", "--config", env.ConfigDirectory);
        ingest.Out.Should().Contain("local");

        var duplicate = await FinNewsProcess.RunAsync("feeds", "add", "--id", "local", "--name", "Again", "--url", server.Url + "rss", "--internal", "--config", env.ConfigDirectory);
        duplicate.Code.Should().Be(3);
        duplicate.Err.Should().Contain("already exists");

        (await FinNewsProcess.RunAsync("feeds", "remove", "local", "--config", env.ConfigDirectory)).Code.Should().Be(0);
        (await File.ReadAllTextAsync(feedsFile)).Should().NotContain("\"local\"");
    }

    [Fact]
    public async Task With_auth_off_feed_admin_over_http_is_refused_and_reads_stay_open()
    {
        using var env = TestEnvironment.Create();
        await using var app = AppHost.BuildWeb(env.Paths, env.Clock, "http://127.0.0.1:0", withScheduler: false);
        await app.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };

        (await http.PostAsJsonAsync("/api/v1/feeds", new { id = "x", name = "X", url = "https://x.example/rss" })).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await http.GetAsync("/api/v1/feeds")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await http.GetAsync("/api/v1/briefings")).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task With_auth_on_keys_and_scopes_guard_the_api_and_feed_admin_validates_like_the_cli()
    {
        using var env = TestEnvironment.Create();
        env.SetSetting("Auth:Enabled", true);
        await using var feeds = await FeedServer();
        await using var app = AppHost.BuildWeb(env.Paths, env.Clock, "http://127.0.0.1:0", withScheduler: false);
        await app.StartAsync();
        var keys = app.Services.GetRequiredService<FinNews.Core.Access.ApiKeyStore>();
        var reader = keys.Create("analyst", "reader", 3).Key;
        var admin = keys.Create("ops", "admin").Key;
        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
        HttpRequestMessage Req(HttpMethod m, string path, string? key, object? body = null)
        {
            var r = new HttpRequestMessage(m, path) { Content = body is null ? null : JsonContent.Create(body) };
            if (key is not null)
            {
                r.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
            }

            return r;
        }

        var body = new { id = "local", name = "Local Wire", url = feeds.Url + "rss", @internal = true };
        (await http.SendAsync(Req(HttpMethod.Get, "/api/v1/briefings", null))).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await http.GetAsync("/health")).StatusCode.Should().Be(HttpStatusCode.OK, "health stays anonymous");
        (await http.SendAsync(Req(HttpMethod.Post, "/api/v1/feeds", reader, body))).StatusCode.Should().Be(HttpStatusCode.Forbidden);

        var junk = await http.SendAsync(Req(HttpMethod.Post, "/api/v1/feeds", admin, new { id = "junk", name = "Junk", url = feeds.Url + "junk", @internal = true }));
        junk.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await junk.Content.ReadAsStringAsync()).Should().Contain("not XML");
        (await http.SendAsync(Req(HttpMethod.Post, "/api/v1/feeds", admin, body))).StatusCode.Should().Be(HttpStatusCode.Created);
        (await http.SendAsync(Req(HttpMethod.Post, "/api/v1/feeds/local/pause", admin))).StatusCode.Should().Be(HttpStatusCode.NoContent);
        var health = await http.SendAsync(Req(HttpMethod.Get, "/api/v1/feeds", reader));
        health.StatusCode.Should().Be(HttpStatusCode.OK);
        using (var doc = JsonDocument.Parse(await health.Content.ReadAsStringAsync()))
        {
            doc.RootElement.EnumerateArray().Single(f => f.GetProperty("id").GetString() == "local").GetProperty("paused").GetBoolean().Should().BeTrue();
        }

        (await http.SendAsync(Req(HttpMethod.Delete, "/api/v1/feeds/local", admin))).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await http.SendAsync(Req(HttpMethod.Delete, "/api/v1/feeds/local", admin))).StatusCode.Should().Be(HttpStatusCode.NotFound);

        // The reader key allows 3 requests a minute: one used above, two more, then 429 with Retry-After.
        (await http.SendAsync(Req(HttpMethod.Get, "/api/v1/search?q=oil", reader))).StatusCode.Should().Be(HttpStatusCode.OK);
        (await http.SendAsync(Req(HttpMethod.Get, "/api/v1/briefings", reader))).StatusCode.Should().Be(HttpStatusCode.OK);
        var limited = await http.SendAsync(Req(HttpMethod.Get, "/api/v1/briefings", reader));
        limited.StatusCode.Should().Be(HttpStatusCode.TooManyRequests);
        limited.Headers.RetryAfter.Should().NotBeNull();
    }

    private static async Task<Server> FeedServer()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.MapGet("/rss", () => Results.Text("""
            <?xml version="1.0"?><rss version="2.0"><channel><title>Local</title><link>https://local.example/</link>
            <item><title>One</title><link>https://local.example/1</link><guid>l-1</guid><pubDate>Fri, 20 Nov 2026 10:00:00 GMT</pubDate></item>
            <item><title>Two</title><link>https://local.example/2</link><guid>l-2</guid><pubDate>Fri, 20 Nov 2026 11:00:00 GMT</pubDate></item>
            </channel></rss>
            """, "application/rss+xml"));
        app.MapGet("/junk", () => Results.Text("Service temporarily unavailable", "text/plain"));
        await app.StartAsync();
        return new Server(app);
    }

    private sealed class Server(WebApplication app) : IAsyncDisposable
    {
        public string Url { get; } = app.Urls.First().TrimEnd('/') + "/";

        public ValueTask DisposeAsync() => app.DisposeAsync();
    }
}
