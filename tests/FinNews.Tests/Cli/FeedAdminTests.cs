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
        var original = await File.ReadAllBytesAsync(feedsFile);

        var refusedPrivate = await FinNewsProcess.RunAsync("feeds", "add", "--id", "local", "--name", "Local", "--url", server.Url + "rss", "--config", env.ConfigDirectory);
        var refusedJunk = await FinNewsProcess.RunAsync("feeds", "add", "--id", "junk", "--name", "Junk", "--url", server.Url + "junk", "--internal", "--config", env.ConfigDirectory);
        var refusedScheme = await FinNewsProcess.RunAsync("feeds", "add", "--id", "ftp", "--name", "Ftp", "--url", "ftp://x.example/rss", "--config", env.ConfigDirectory);

        refusedPrivate.Code.Should().Be(1);
        refusedPrivate.Err.Should().Contain("loopback").And.Contain("internal");
        refusedJunk.Code.Should().Be(1);
        refusedJunk.Err.Should().Contain("junk").And.Contain("not XML");
        refusedScheme.Code.Should().Be(2, "a malformed URL is a bad argument");
        refusedScheme.Err.Should().Contain("ftp://x.example/rss");
        (await ListedIds(env)).Should().NotContain(["local", "junk", "ftp"], "nothing is saved for a refused feed");

        var added = await FinNewsProcess.RunAsync("feeds", "add", "--id", "local", "--name", "Local Wire", "--url", server.Url + "rss", "--internal", "--interval", "10", "--config", env.ConfigDirectory);
        added.Code.Should().Be(0, added.Err);
        added.Out.Should().Contain("2 items");
        (await File.ReadAllBytesAsync(feedsFile)).Should().Equal(original, "added feeds are stored in the database; feeds.json is never rewritten");
        (await ListedIds(env)).Should().Contain("local");
        var ingest = await FinNewsProcess.RunAsync("ingest", "--config", env.ConfigDirectory);
        ingest.Out.Should().Contain("local");

        var duplicate = await FinNewsProcess.RunAsync("feeds", "add", "--id", "local", "--name", "Again", "--url", server.Url + "rss", "--internal", "--config", env.ConfigDirectory);
        duplicate.Code.Should().Be(2, "an id already taken is a bad argument");
        duplicate.Err.Should().Contain("already exists");

        (await FinNewsProcess.RunAsync("feeds", "remove", "local", "--config", env.ConfigDirectory)).Code.Should().Be(0);
        (await ListedIds(env)).Should().NotContain("local");
        (await File.ReadAllBytesAsync(feedsFile)).Should().Equal(original, "removing an added feed does not touch feeds.json either");
    }

    [Fact]
    public async Task Feeds_json_seeds_the_list_edits_to_it_apply_and_its_feeds_are_removed_there_not_by_the_cli()
    {
        using var env = TestEnvironment.Create();
        await using var server = await FeedServer();
        var feedsFile = Path.Combine(env.ConfigDirectory, "feeds.json");
        var added = await FinNewsProcess.RunAsync("feeds", "add", "--id", "local", "--name", "Local Wire", "--url", server.Url + "rss", "--internal", "--config", env.ConfigDirectory);
        added.Code.Should().Be(0, added.Err);
        var original = await File.ReadAllBytesAsync(feedsFile);

        var refused = await FinNewsProcess.RunAsync("feeds", "remove", "meridian-wire", "--config", env.ConfigDirectory);

        refused.Code.Should().Be(1);
        refused.Err.Should().Contain("declared in").And.Contain("feeds.json").And.Contain("finnews feeds pause meridian-wire");
        (await File.ReadAllBytesAsync(feedsFile)).Should().Equal(original);
        (await ListedIds(env)).Should().Contain("meridian-wire");

        // An operator edits feeds.json: a changed interval applies, a dropped entry leaves the list; the added feed stays.
        env.EditFeeds(feeds => [.. feeds.Where(f => (string?)f!["id"] != "copperline-financial").Select(f =>
        {
            if ((string?)f!["id"] == "meridian-wire")
            {
                f["intervalMinutes"] = 45;
            }

            return f;
        })]);
        var list = await FinNewsProcess.RunAsync("feeds", "list", "--json", "--config", env.ConfigDirectory);
        list.Code.Should().Be(0, list.Err);
        using var doc = JsonDocument.Parse(list.Out);
        var feeds = doc.RootElement.EnumerateArray().ToDictionary(f => f.GetProperty("feed").GetProperty("id").GetString()!, f => f);
        feeds.Should().NotContainKey("copperline-financial");
        feeds["meridian-wire"].GetProperty("feed").GetProperty("intervalMinutes").GetInt32().Should().Be(45);
        feeds["meridian-wire"].GetProperty("origin").GetString().Should().Be("config");
        feeds["local"].GetProperty("origin").GetString().Should().Be("added");
    }

    private static async Task<List<string>> ListedIds(TestEnvironment env)
    {
        var list = await FinNewsProcess.RunAsync("feeds", "list", "--json", "--config", env.ConfigDirectory);
        list.Code.Should().Be(0, list.Err);
        using var doc = JsonDocument.Parse(list.Out);
        return doc.RootElement.EnumerateArray().Select(f => f.GetProperty("feed").GetProperty("id").GetString()!).ToList();
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
        var keys = app.Services.GetRequiredService<FinNews.Core.Storage.Sqlite.SqliteApiKeyStore>();
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

        (await http.SendAsync(Req(HttpMethod.Get, "/api/v1/briefings", null))).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await http.GetAsync("/health")).StatusCode.Should().Be(HttpStatusCode.OK, "health stays anonymous");
        var body = new { id = "local", name = "Local Wire", url = feeds.Url + "rss" };
        (await http.SendAsync(Req(HttpMethod.Post, "/api/v1/feeds", reader, body))).StatusCode.Should().Be(HttpStatusCode.Forbidden);

        // Over HTTP a feed is never internal: the loopback feed is refused by the SSRF guard, marked or not.
        var marked = await http.SendAsync(Req(HttpMethod.Post, "/api/v1/feeds", admin, new { id = "local", name = "Local Wire", url = feeds.Url + "rss", @internal = true }));
        marked.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await marked.Content.ReadAsStringAsync()).Should().Contain("internal");
        (await http.SendAsync(Req(HttpMethod.Post, "/api/v1/feeds", admin, body))).StatusCode.Should().Be(HttpStatusCode.BadRequest);

        // The operator adds it from the command line (the only place it can be marked internal); the API manages it.
        var added = await FinNewsProcess.RunAsync("feeds", "add", "--id", "local", "--name", "Local Wire", "--url", feeds.Url + "rss", "--internal", "--config", env.ConfigDirectory);
        added.Code.Should().Be(0, added.Err);
        (await http.SendAsync(Req(HttpMethod.Post, "/api/v1/feeds/local/pause", admin))).StatusCode.Should().Be(HttpStatusCode.NoContent);
        var health = await http.SendAsync(Req(HttpMethod.Get, "/api/v1/feeds", reader));
        health.StatusCode.Should().Be(HttpStatusCode.OK);
        using (var doc = JsonDocument.Parse(await health.Content.ReadAsStringAsync()))
        {
            var local = doc.RootElement.EnumerateArray().Single(f => f.GetProperty("id").GetString() == "local");
            local.GetProperty("paused").GetBoolean().Should().BeTrue();
            local.GetProperty("internal").GetBoolean().Should().BeTrue();
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
