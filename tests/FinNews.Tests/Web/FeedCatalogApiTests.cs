using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using FinNews.Core.Storage.Sqlite;
using FinNews.Hosting;
using FinNews.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FinNews.Tests.Web;

/// <summary>
/// Feed administration over real loopback HTTP: the feed list lives in the database (config/feeds.json is only read),
/// every 201 is a stored feed, and the API cannot be used to reach private addresses or read what a URL returns.
/// </summary>
public sealed class FeedCatalogApiTests : IDisposable
{
    private readonly TestEnvironment _env = TestEnvironment.Create();

    public FeedCatalogApiTests() => _env.SetSetting("Auth:Enabled", true);

    public void Dispose() => _env.Dispose();

    private string FeedsFile => Path.Combine(_env.ConfigDirectory, "feeds.json");

    [Fact]
    public async Task Every_201_of_a_hundred_concurrent_additions_is_a_stored_listed_feed_and_feeds_json_is_never_rewritten()
    {
        await using var feeds = await FeedServer.StartAsync();
        var configBytes = await File.ReadAllBytesAsync(FeedsFile);
        await using var app = await StartWebAsync(feeds);
        var admin = AdminKey(app);
        using var http = Client(app, admin);

        // 100 distinct feeds, plus a second add of ten of those ids racing the first: each id is stored once.
        var ids = Enumerable.Range(0, 100).Select(i => $"wire-{i:D3}").ToList();
        var posts = ids.Concat(ids.Take(10)).Select(async id =>
        {
            using var response = await http.PostAsJsonAsync("/api/v1/feeds", new { id, name = $"Wire {id}", url = $"http://{id}.feeds.example/rss", intervalMinutes = 15 });
            return (id, response.StatusCode, Body: await response.Content.ReadAsStringAsync());
        }).ToList();
        var results = await Task.WhenAll(posts);

        var created = results.Where(r => r.StatusCode == HttpStatusCode.Created).Select(r => r.id).ToList();
        created.Should().BeEquivalentTo(ids, "every valid, distinct feed is accepted exactly once");
        var refused = results.Where(r => r.StatusCode != HttpStatusCode.Created).ToList();
        refused.Should().HaveCount(10).And.OnlyContain(r => r.StatusCode == HttpStatusCode.Conflict && r.Body.Contains("already exists", StringComparison.Ordinal));

        // Stored: read back by another process (the CLI) from the database, and by the API.
        var cli = await FinNewsProcess.RunAsync("feeds", "list", "--json", "--config", _env.ConfigDirectory);
        cli.Code.Should().Be(0, cli.Err);
        var listedByCli = ListedByCli(cli.Out);
        listedByCli.Where(f => f.Id.StartsWith("wire-", StringComparison.Ordinal)).Select(f => f.Id).Should().BeEquivalentTo(created, "every 201 is a stored feed");
        listedByCli.Where(f => f.Id.StartsWith("wire-", StringComparison.Ordinal)).Should().OnlyContain(f => f.Origin == "added");
        listedByCli.Select(f => f.Id).Should().Contain("meridian-wire", "config feeds stay listed beside added ones");
        var listed = await ListedOverHttp(http);
        listed.Where(f => f.Id.StartsWith("wire-", StringComparison.Ordinal)).Select(f => f.Id).Should().BeEquivalentTo(created);
        (await File.ReadAllBytesAsync(FeedsFile)).Should().Equal(configBytes, "feeds.json is the declared list; the program never writes it");

        // Removing half of them: 204 each, gone from every listing, still gone after a restart; config untouched.
        var removed = ids.Where((_, i) => i % 2 == 0).ToList();
        var deletes = await Task.WhenAll(removed.Select(async id => (await http.DeleteAsync($"/api/v1/feeds/{id}")).StatusCode));
        deletes.Should().OnlyContain(s => s == HttpStatusCode.NoContent);
        (await File.ReadAllBytesAsync(FeedsFile)).Should().Equal(configBytes);
        await app.StopAsync();

        await using var restarted = await StartWebAsync(feeds);
        using var again = Client(restarted, admin);
        listed = await ListedOverHttp(again);
        listed.Where(f => f.Id.StartsWith("wire-", StringComparison.Ordinal)).Select(f => f.Id).Should().BeEquivalentTo(ids.Except(removed));
        listed.Where(f => f.Origin == "config").Select(f => f.Id).Should().Contain("meridian-wire").And.HaveCount(7);
        (await File.ReadAllBytesAsync(FeedsFile)).Should().Equal(configBytes);
    }

    [Fact]
    public async Task Internal_true_over_http_is_refused_naming_the_field_and_no_request_reaches_the_loopback_server()
    {
        await using var feeds = await FeedServer.StartAsync();
        // No test resolver here: the API's fetches go through the real SSRF guard.
        await using var app = AppHost.BuildWeb(_env.Paths, _env.Clock, "http://127.0.0.1:0", withScheduler: false);
        await app.StartAsync();
        using var http = Client(app, AdminKey(app));

        using var marked = await http.PostAsJsonAsync("/api/v1/feeds", new { id = "inside", name = "Inside", url = feeds.LoopbackUrl("rss"), @internal = true });
        using var unmarked = await http.PostAsJsonAsync("/api/v1/feeds", new { id = "inside", name = "Inside", url = feeds.LoopbackUrl("rss") });

        marked.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        marked.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        using (var problem = JsonDocument.Parse(await marked.Content.ReadAsStringAsync()))
        {
            problem.RootElement.GetProperty("errors").GetProperty("internal")[0].GetString().Should().Contain("finnews feeds add --internal");
        }

        unmarked.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        var detail = await unmarked.Content.ReadAsStringAsync();
        detail.Should().Contain("non-public address").And.NotContain("127.0.0.1:", "the refusal does not disclose addresses");
        feeds.Requests.Should().BeEmpty("the guard refuses before connecting");
        (await ListedOverHttp(http)).Select(f => f.Id).Should().NotContain("inside");
    }

    [Fact]
    public async Task A_url_that_does_not_return_a_feed_is_refused_without_quoting_what_it_returned()
    {
        await using var feeds = await FeedServer.StartAsync();
        await using var app = await StartWebAsync(feeds);
        using var http = Client(app, AdminKey(app));

        foreach (var path in new[] { "secret-text", "secret-html", "secret-xml" })
        {
            using var response = await http.PostAsJsonAsync("/api/v1/feeds", new { id = path, name = "Probe", url = $"http://{path}.feeds.example/{path}" });

            response.StatusCode.Should().Be(HttpStatusCode.BadRequest, path);
            var body = await response.Content.ReadAsStringAsync();
            body.Should().Contain("did not return a parseable RSS/Atom feed", path);
            body.Should().NotContain(FeedServer.Secret, "an admin key must not turn the API into a way to read other servers' responses")
                .And.NotContain("db-password", path);
        }

        feeds.Requests.Should().HaveCount(3);
        (await ListedOverHttp(http)).Select(f => f.Id).Should().NotContain(["secret-text", "secret-html", "secret-xml"]);
    }

    [Fact]
    public async Task A_config_feed_cannot_be_deleted_over_http_and_stays_after_a_restart()
    {
        await using var feeds = await FeedServer.StartAsync();
        var configBytes = await File.ReadAllBytesAsync(FeedsFile);
        await using var app = await StartWebAsync(feeds);
        var admin = AdminKey(app);
        using var http = Client(app, admin);

        using var delete = await http.DeleteAsync("/api/v1/feeds/meridian-wire");
        using var clash = await http.PostAsJsonAsync("/api/v1/feeds", new { id = "meridian-wire", name = "Clash", url = "http://meridian.feeds.example/rss" });
        using var pause = await http.PostAsync("/api/v1/feeds/meridian-wire/pause", null);
        using var missing = await http.DeleteAsync("/api/v1/feeds/no-such-feed");

        delete.StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await delete.Content.ReadAsStringAsync()).Should().Contain("declared in feeds.json").And.Contain("pause");
        clash.StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await clash.Content.ReadAsStringAsync()).Should().Contain("already exists").And.Contain("feeds.json");
        pause.StatusCode.Should().Be(HttpStatusCode.NoContent);
        missing.StatusCode.Should().Be(HttpStatusCode.NotFound);
        feeds.Requests.Should().BeEmpty("a clashing id is refused before anything is fetched");
        await app.StopAsync();

        await using var restarted = await StartWebAsync(feeds);
        using var again = Client(restarted, admin);
        var meridian = (await ListedOverHttp(again)).Single(f => f.Id == "meridian-wire");
        meridian.Paused.Should().BeTrue("a pause is stored and outlives the re-seed");
        meridian.Name.Should().Be("Meridian Wire");
        (await File.ReadAllBytesAsync(FeedsFile)).Should().Equal(configBytes);
    }

    [Fact]
    public async Task A_feed_added_over_http_while_the_scheduler_runs_is_polled_without_a_restart()
    {
        _env.SetSetting("Scheduler:FeedListSyncSeconds", 5);
        await using var feeds = await FeedServer.StartAsync();
        await using var app = await StartWebAsync(feeds, withScheduler: true);
        using var http = Client(app, AdminKey(app));
        var status = app.Services.GetRequiredService<FinNews.Core.FirstPassStatus>();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (status.State != "done" && watch.Elapsed < TimeSpan.FromSeconds(60))
        {
            await Task.Delay(100);
        }

        status.State.Should().Be("done");

        using var added = await http.PostAsJsonAsync("/api/v1/feeds", new { id = "late-wire", name = "Late Wire", url = "http://late-wire.feeds.example/rss", intervalMinutes = 30 });
        added.StatusCode.Should().Be(HttpStatusCode.Created);
        var store = app.Services.GetRequiredService<SqliteStore>();
        watch.Restart();
        while (store.GetFeedState("late-wire")?.LastSuccessAt is null && watch.Elapsed < TimeSpan.FromSeconds(30))
        {
            // The scheduler runs on the host's clock: move it on in steps of the feed-list check interval.
            _env.Clock.Advance(TimeSpan.FromSeconds(5));
            await Task.Delay(200);
        }

        store.GetFeedState("late-wire")?.LastSuccessAt.Should().NotBeNull("the scheduler picks up feeds added while it runs");
        store.ArticleCountsByFeed(DateTimeOffset.UnixEpoch).GetValueOrDefault("late-wire").Should().Be(1);
    }

    private async Task<WebApplication> StartWebAsync(FeedServer feeds, bool withScheduler = false)
    {
        // Feed hosts are "public" names (*.feeds.example) that the test's client connects to the loopback feed server;
        // everything else (auth, catalog, fetcher, parser, store) is the real thing.
        var app = AppHost.BuildWeb(_env.Paths, _env.Clock, "http://127.0.0.1:0", withScheduler, b =>
        {
            b.Services.AddSingleton(feeds.PublicNameClient());
            b.Logging.SetMinimumLevel(LogLevel.Warning);
        });
        await app.StartAsync();
        return app;
    }

    private static string AdminKey(WebApplication app) =>
        app.Services.GetRequiredService<FinNews.Core.Storage.Sqlite.SqliteApiKeyStore>().Create("ops", "admin", 100_000).Key;

    private static HttpClient Client(WebApplication app, string key)
    {
        var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()), Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return http;
    }

    private sealed record Listed(string Id, string Name, string Origin, bool Paused);

    private static async Task<List<Listed>> ListedOverHttp(HttpClient http)
    {
        using var doc = JsonDocument.Parse(await http.GetStringAsync("/api/v1/feeds"));
        return doc.RootElement.EnumerateArray().Select(f => new Listed(f.GetProperty("id").GetString()!, f.GetProperty("name").GetString()!,
            f.TryGetProperty("origin", out var origin) ? origin.GetString()! : "", f.GetProperty("paused").GetBoolean())).ToList();
    }

    private static List<Listed> ListedByCli(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return doc.RootElement.EnumerateArray().Select(f => new Listed(f.GetProperty("feed").GetProperty("id").GetString()!,
            f.GetProperty("feed").GetProperty("name").GetString()!, f.TryGetProperty("origin", out var origin) ? origin.GetString()! : "", false)).ToList();
    }

    /// <summary>A Kestrel feed server on 127.0.0.1: /rss is a feed; /secret-* are documents that are not feeds.</summary>
    private sealed class FeedServer : IAsyncDisposable
    {
        public const string Secret = "SECRET-7f3a9c";

        private readonly WebApplication _app;

        private FeedServer(WebApplication app) => _app = app;

        public ConcurrentQueue<string> Requests { get; } = new();

        private int Port => new Uri(_app.Urls.First()).Port;

        public string LoopbackUrl(string path) => $"http://127.0.0.1:{Port}/{path}";

        public static async Task<FeedServer> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            var app = builder.Build();
            FeedServer? server = null;
            app.Use(async (context, next) =>
            {
                server!.Requests.Enqueue(context.Request.Host + context.Request.Path);
                await next(context);
            });
            app.MapGet("/rss", (HttpContext c) => Results.Text($"""
                <?xml version="1.0"?><rss version="2.0"><channel><title>{c.Request.Host.Host}</title><link>https://{c.Request.Host.Host}/</link>
                <item><title>Update from {c.Request.Host.Host}</title><link>https://{c.Request.Host.Host}/1</link><guid>{c.Request.Host.Host}-1</guid><pubDate>Fri, 20 Nov 2026 10:00:00 GMT</pubDate></item>
                </channel></rss>
                """, "application/rss+xml"));
            app.MapGet("/secret-text", () => Results.Text($"{Secret} db-password=hunter2 Service temporarily unavailable", "text/plain"));
            app.MapGet("/secret-html", () => Results.Text($"<html><head><title>{Secret}</title></head><body>db-password=hunter2</body></html>", "text/html"));
            app.MapGet("/secret-xml", () => Results.Text($"<?xml version=\"1.0\"?><config><{Secret}>db-password=hunter2</{Secret}></config>", "application/xml"));
            await app.StartAsync();
            server = new FeedServer(app);
            return server;
        }

        /// <summary>
        /// The feed client for the app under test: every host name connects to this loopback server, standing in for
        /// public DNS (the real SSRF guard would, rightly, refuse the loopback address).
        /// </summary>
        public HttpClient PublicNameClient()
        {
            var port = Port;
            var handler = new SocketsHttpHandler
            {
                AutomaticDecompression = DecompressionMethods.All,
                AllowAutoRedirect = false,
                ConnectCallback = async (context, ct) =>
                {
                    var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                    try
                    {
                        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), ct);
                        return new NetworkStream(socket, ownsSocket: true);
                    }
                    catch
                    {
                        socket.Dispose();
                        throw;
                    }
                },
            };
            return new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        }

        public async ValueTask DisposeAsync()
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await _app.StopAsync(stop.Token);
            await _app.DisposeAsync();
        }
    }
}
