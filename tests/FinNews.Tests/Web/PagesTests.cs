using System.Net;
using System.Text.Json;
using FinNews.Core;
using FinNews.Hosting;
using FinNews.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace FinNews.Tests.Web;

public class PagesTests
{
    [Fact]
    public async Task Search_markets_and_feed_health_pages_render_from_stored_data_without_scripts()
    {
        using var env = TestEnvironment.Create();
        await using var app = AppHost.BuildWeb(env.Paths, env.Clock, "http://127.0.0.1:0", withScheduler: false);
        await app.StartAsync();
        await app.Services.GetRequiredService<FinNewsPipeline>().IngestAsync(null, CancellationToken.None);
        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };

        var search = await http.GetStringAsync("/search?q=" + Uri.EscapeDataString("brake recall <script>alert(1)</script>"));
        search.Should().Contain("182,400 Vanta SUVs").And.Contain("one per story");
        search.Should().NotContain("<script>alert(1)</script>", "the query is echoed encoded");

        var markets = await http.GetStringAsync("/markets");
        markets.Should().Contain("<svg class=\"spark").And.Contain("NVLX").And.Contain("148.38");
        markets.Should().NotContain("<script");

        var feeds = await http.GetStringAsync("/feeds");
        feeds.Should().Contain("Meridian Wire").And.Contain("status-ok").And.Contain("broken-wire");

        (await http.GetAsync("/search?q=x&mode=fuzzy")).StatusCode.Should().Be(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task The_openapi_document_describes_the_query_api()
    {
        using var env = TestEnvironment.Create();
        await using var app = AppHost.BuildWeb(env.Paths, env.Clock, "http://127.0.0.1:0", withScheduler: false);
        await app.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };

        using var doc = JsonDocument.Parse(await http.GetStringAsync("/openapi/v1.json"));

        doc.RootElement.GetProperty("openapi").GetString().Should().StartWith("3.");
        var paths = doc.RootElement.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        paths.Should().Contain(["/api/v1/briefings/latest", "/api/v1/briefings/{id}", "/api/v1/search", "/api/v1/feeds", "/api/v1/ask", "/health"]);
        paths.Should().NotContain("/", "pages are not part of the API document");
    }
}
