using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FinNews.Core;
using FinNews.Hosting;
using FinNews.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace FinNews.Tests.Web;

public class ApiTests
{
    [Fact]
    public async Task Briefings_page_and_render_in_every_format_and_articles_resolve_by_id()
    {
        using var env = TestEnvironment.Create();
        await using var app = AppHost.BuildWeb(env.Paths, env.Clock, "http://127.0.0.1:0", withScheduler: false);
        await app.StartAsync();
        var pipeline = app.Services.GetRequiredService<FinNewsPipeline>();
        await pipeline.IngestAsync(null, CancellationToken.None);
        env.Clock.Advance(TimeSpan.FromDays(1));
        var (first, _) = await pipeline.BriefAsync(new DateTimeOffset(2026, 11, 21, 23, 0, 0, TimeSpan.Zero), CancellationToken.None);
        env.Clock.Advance(TimeSpan.FromMinutes(5));
        var (second, _) = await pipeline.BriefAsync(null, CancellationToken.None);
        first.Sources.Should().Contain(s => s.Kind == FinNews.Core.Briefing.SourceKind.Article, "the samples were seen before the as-of instant");
        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };

        using var page1 = JsonDocument.Parse(await http.GetStringAsync("/api/v1/briefings?page=1&pageSize=1"));
        using var page2 = JsonDocument.Parse(await http.GetStringAsync("/api/v1/briefings?page=2&pageSize=1"));
        page1.RootElement.GetProperty("total").GetInt64().Should().Be(2);
        page1.RootElement.GetProperty("items")[0].GetProperty("id").GetString().Should().Be(second.Id, "newest first");
        page2.RootElement.GetProperty("items")[0].GetProperty("id").GetString().Should().Be(first.Id);

        var md = await http.GetAsync($"/api/v1/briefings/{first.Id}?format=md");
        md.Content.Headers.ContentType!.MediaType.Should().Be("text/markdown");
        (await md.Content.ReadAsStringAsync()).Should().StartWith("# Financial briefing");
        (await http.GetStringAsync($"/api/v1/briefings/{first.Id}?format=html")).Should().Contain("<article class=\"briefing\"");
        (await http.GetAsync($"/api/v1/briefings/{first.Id}?format=pdf")).StatusCode.Should().Be(HttpStatusCode.BadRequest);

        var articleId = second.Sources.First(s => s.ArticleId is not null).ArticleId!;
        using var article = JsonDocument.Parse(await http.GetStringAsync($"/api/v1/articles/{articleId}"));
        article.RootElement.GetProperty("url").GetString().Should().Be(second.Sources.First(s => s.ArticleId == articleId).Url);
        (await http.GetAsync("/api/v1/articles/nope")).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Subscribers_are_managed_over_http_with_an_admin_key_and_validated()
    {
        using var env = TestEnvironment.Create();
        env.SetSetting("Auth:Enabled", true);
        await using var app = AppHost.BuildWeb(env.Paths, env.Clock, "http://127.0.0.1:0", withScheduler: false);
        await app.StartAsync();
        var admin = app.Services.GetRequiredService<FinNews.Core.Storage.Sqlite.SqliteApiKeyStore>().Create("ops", "admin").Key;
        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
        (await http.GetAsync("/api/v1/subscribers")).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        http.DefaultRequestHeaders.Add("X-Api-Key", admin);

        var bad = await http.PostAsJsonAsync("/api/v1/subscribers", new { email = "not-an-address", timeZone = "Mars/Olympus" });
        var good = await http.PostAsJsonAsync("/api/v1/subscribers", new { email = "analyst@example.com", timeZone = "America/New_York", schedule = "weekdays 07:00", tickers = new[] { "NVLX" } });

        bad.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await bad.Content.ReadAsStringAsync()).Should().Contain("not-an-address");
        good.StatusCode.Should().Be(HttpStatusCode.Created);
        using var list = JsonDocument.Parse(await http.GetStringAsync("/api/v1/subscribers"));
        var entry = list.RootElement.EnumerateArray().Single();
        entry.GetProperty("email").GetString().Should().Be("analyst@example.com");
        entry.TryGetProperty("unsubscribeToken", out _).Should().BeFalse("tokens are not handed out by the API");
        (await http.DeleteAsync($"/api/v1/subscribers/{entry.GetProperty("id").GetInt64()}")).StatusCode.Should().Be(HttpStatusCode.NoContent);
    }
}
