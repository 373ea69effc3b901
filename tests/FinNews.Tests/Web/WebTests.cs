using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using FinNews.Core;
using FinNews.Hosting;
using FinNews.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace FinNews.Tests.Web;

public partial class WebTests
{
    [Fact]
    public async Task The_home_page_shows_the_latest_briefing_with_resolving_citations_over_real_http()
    {
        using var env = TestEnvironment.Create();
        await using var app = AppHost.BuildWeb(env.Paths, env.Clock, "http://127.0.0.1:0", withScheduler: false);
        await app.StartAsync();
        var pipeline = app.Services.GetRequiredService<FinNewsPipeline>();
        await pipeline.IngestAsync(null, CancellationToken.None);
        var (briefing, _) = await pipeline.BriefAsync(null, CancellationToken.None);
        using var http = new HttpClient { BaseAddress = new Uri(Address(app)) };

        var response = await http.GetAsync("/");
        var html = await response.Content.ReadAsStringAsync();

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.ToString().Should().Be("text/html; charset=utf-8");
        response.Headers.GetValues("Content-Security-Policy").Single().Should().Contain("default-src 'none'").And.NotContain("unsafe-inline");
        html.Should().Contain(WebUtility.HtmlEncode(briefing.Title));
        html.Should().NotContain("<script", "pages carry no scripts, and feed markup is never passed through");
        html.Should().NotContain("<img");
        var citations = CitationLink().Matches(html).Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).Distinct().ToList();
        citations.Should().NotBeEmpty();
        foreach (var n in citations)
        {
            var item = Regex.Match(html, $"<li id=\"src-{n}\"[^>]*>(.*?)</li>");
            item.Success.Should().BeTrue($"citation [{n}] must resolve to a listed source");
            var source = briefing.Source(n)!;
            item.Groups[1].Value.Should().Contain(WebUtility.HtmlEncode(source.Outlet).Replace("&#39;", "&#x27;", StringComparison.Ordinal))
                .And.Contain($"{source.PublishedAt:yyyy-MM-dd HH:mm} UTC");
        }

        (await http.GetAsync($"/briefings/{briefing.Id}")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await http.GetAsync("/briefings/does-not-exist")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await http.GetAsync("/market/NVLX")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await http.GetAsync("/static/site.css")).Content.Headers.ContentType!.MediaType.Should().Be("text/css");
    }

    [Fact]
    public async Task The_api_serves_the_latest_briefing_as_json_and_health_anonymously()
    {
        using var env = TestEnvironment.Create();
        await using var app = AppHost.BuildWeb(env.Paths, env.Clock, "http://127.0.0.1:0", withScheduler: false);
        await app.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(Address(app)) };

        var none = await http.GetAsync("/api/v1/briefings/latest");
        none.StatusCode.Should().Be(HttpStatusCode.NotFound);
        none.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");

        var pipeline = app.Services.GetRequiredService<FinNewsPipeline>();
        await pipeline.IngestAsync(null, CancellationToken.None);
        var (briefing, _) = await pipeline.BriefAsync(null, CancellationToken.None);

        using var latest = JsonDocument.Parse(await http.GetStringAsync("/api/v1/briefings/latest"));
        latest.RootElement.GetProperty("id").GetString().Should().Be(briefing.Id);
        latest.RootElement.GetProperty("sections").GetArrayLength().Should().Be(briefing.Sections.Count);
        latest.RootElement.GetProperty("sources")[0].GetProperty("url").GetString().Should().NotBeNullOrEmpty();

        using var list = JsonDocument.Parse(await http.GetStringAsync("/api/v1/briefings?page=1&pageSize=5"));
        list.RootElement.GetProperty("total").GetInt64().Should().Be(1);

        using var health = JsonDocument.Parse(await http.GetStringAsync("/health"));
        health.RootElement.GetProperty("status").GetString().Should().Be("ok");
        health.RootElement.GetProperty("articles").GetInt64().Should().BeGreaterThan(40);
    }

    [Fact]
    public async Task Hostile_markup_in_feed_items_reaches_the_page_only_as_text()
    {
        using var env = TestEnvironment.Create();
        await using var app = AppHost.BuildWeb(env.Paths, env.Clock, "http://127.0.0.1:0", withScheduler: false);
        await app.StartAsync();
        var pipeline = app.Services.GetRequiredService<FinNewsPipeline>();
        await pipeline.IngestAsync(null, CancellationToken.None);
        var store = app.Services.GetRequiredService<FinNews.Core.Storage.Sqlite.SqliteStore>();
        // A title that is itself markup, as an attacker would publish it.
        store.SyncFeeds([new FinNews.Core.Feeds.FeedDefinition("evil", "Evil <b>Outlet</b>", "https://evil.example/rss")]);
        store.CommitFetch("evil", [Some.Article("evil1", "evil", "<img src=x onerror=alert(1)> Novalux <script>alert(2)</script>",
            new DateTimeOffset(2026, 11, 20, 20, 0, 0, TimeSpan.Zero), ["NVLX"], "Evil <b>Outlet</b>", "Novalux \"quote\" <iframe src=//x>")],
            null, null, Some.Day);
        await pipeline.BriefAsync(null, CancellationToken.None);
        using var http = new HttpClient { BaseAddress = new Uri(Address(app)) };

        var html = await http.GetStringAsync("/");

        html.Should().NotContain("<img").And.NotContain("<script").And.NotContain("<iframe").And.NotContain("<b>Outlet");
        html.Should().NotContainAny("javascript:", "onerror=alert(1)>");
    }

    [Fact]
    public async Task The_run_command_serves_a_briefing_at_the_root_soon_after_start()
    {
        using var env = TestEnvironment.Create();
        var port = FreePort();
        var watch = Stopwatch.StartNew();
        using var process = Process.Start(FinNewsProcess.StartInfo("run", "--config", env.ConfigDirectory, "--urls", $"http://127.0.0.1:{port}"))!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(15) };
        string? html = null;
        try
        {
            while (watch.Elapsed < TimeSpan.FromSeconds(90) && !process.HasExited)
            {
                try
                {
                    var page = await http.GetStringAsync("/");
                    if (page.Contains("class=\"briefing\"", StringComparison.Ordinal))
                    {
                        html = page;
                        break;
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                {
                    // Not listening yet, or slow to answer while the first pass runs on a busy machine: ask again.
                }

                await Task.Delay(250);
            }
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        html.Should().NotBeNull($"a briefing should be served; stderr: {await stderr}");
        html.Should().Contain("class=\"cite\"");
        (await stdout).Should().StartWith($"FinNews is running at http://127.0.0.1:{port}: first pass under way", "run says at once where to look");
        watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(90));
    }

    [Fact]
    public async Task Serve_on_an_empty_store_says_how_to_write_a_briefing_and_promises_no_first_pass()
    {
        using var env = TestEnvironment.Create();
        await using var app = AppHost.BuildWeb(env.Paths, env.Clock, "http://127.0.0.1:0", withScheduler: false);
        await app.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(Address(app)) };

        var html = await http.GetStringAsync("/");

        html.Should().Contain("No briefing yet").And.Contain("finnews brief").And.NotContain("First pass");
        html.Should().NotContain("http-equiv=\"refresh\"", "nothing is coming, so the page does not reload itself");
    }

    private static string Address(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [GeneratedRegex("<a class=\"cite\" href=\"#src-(\\d+)\"")]
    private static partial Regex CitationLink();
}
