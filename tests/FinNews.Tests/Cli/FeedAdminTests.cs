using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FinNews.Hosting;
using FinNews.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

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
    public async Task The_feed_admin_api_needs_the_admin_key_and_validates_like_the_cli()
    {
        using var env = TestEnvironment.Create();
        await using var feeds = await FeedServer();
        await using var app = AppHost.BuildWeb(env.Paths, "http://127.0.0.1:0", withScheduler: false);
        await app.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
        var body = new { id = "local", name = "Local Wire", url = feeds.Url + "rss", @internal = true };

        Environment.SetEnvironmentVariable(FinNews.Api.FeedsApi.AdminKeyVariable, null);
        (await http.PostAsJsonAsync("/api/v1/feeds", body)).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        try
        {
            Environment.SetEnvironmentVariable(FinNews.Api.FeedsApi.AdminKeyVariable, "s3cret-admin-key");
            (await http.PostAsJsonAsync("/api/v1/feeds", body)).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "s3cret-admin-key");

            var junk = await http.PostAsJsonAsync("/api/v1/feeds", new { id = "junk", name = "Junk", url = feeds.Url + "junk", @internal = true });
            junk.StatusCode.Should().Be(HttpStatusCode.BadRequest);
            (await junk.Content.ReadAsStringAsync()).Should().Contain("not XML");

            (await http.PostAsJsonAsync("/api/v1/feeds", body)).StatusCode.Should().Be(HttpStatusCode.Created);
            (await http.PostAsync("/api/v1/feeds/local/pause", null)).StatusCode.Should().Be(HttpStatusCode.NoContent);
            using (var health = JsonDocument.Parse(await http.GetStringAsync("/api/v1/feeds")))
            {
                health.RootElement.EnumerateArray().Single(f => f.GetProperty("id").GetString() == "local").GetProperty("paused").GetBoolean().Should().BeTrue();
            }

            (await http.PostAsync("/api/v1/feeds/local/resume", null)).StatusCode.Should().Be(HttpStatusCode.NoContent);
            (await http.DeleteAsync("/api/v1/feeds/local")).StatusCode.Should().Be(HttpStatusCode.NoContent);
            (await http.DeleteAsync("/api/v1/feeds/local")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        }
        finally
        {
            Environment.SetEnvironmentVariable(FinNews.Api.FeedsApi.AdminKeyVariable, null);
        }
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
