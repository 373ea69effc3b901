using System.Text.Json.Nodes;
using FinNews.Core;
using FinNews.Core.Storage.Sqlite;
using FinNews.Hosting;
using FinNews.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace FinNews.Tests.Feeds;

public class FullTextIngestTests
{
    private const string Story = "Novalux said data-center revenue rose 44% to $4.91bn in the quarter, and it raised its outlook for the fourth quarter to $7.30bn, above the $6.95bn analysts expected. The company also approved a $5bn buyback and said supply constraints would ease by spring.";

    [Fact]
    public async Task A_full_text_feed_stores_the_article_text_from_each_items_page()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var site = builder.Build();
        var pageHits = 0;
        site.MapGet("/rss", (HttpContext ctx) => Results.Text($"""
            <?xml version="1.0"?><rss version="2.0"><channel><title>Teasers</title><link>{Base(ctx)}/</link>
            <item><title>Novalux results</title><link>{Base(ctx)}/a1</link><guid>t-1</guid><description>Teaser only.</description><pubDate>Fri, 20 Nov 2026 10:00:00 GMT</pubDate></item>
            <item><title>Novalux outlook</title><link>{Base(ctx)}/a2</link><guid>t-2</guid><description>Teaser too.</description><pubDate>Fri, 20 Nov 2026 11:00:00 GMT</pubDate></item>
            <item><title>Gone</title><link>{Base(ctx)}/missing</link><guid>t-3</guid><description>Teaser three.</description><pubDate>Fri, 20 Nov 2026 12:00:00 GMT</pubDate></item>
            </channel></rss>
            """, "application/rss+xml"));
        site.MapGet("/a1", () => { pageHits++; return Results.Text($"<html><body><nav>Home</nav><article><h1>Results</h1><p>{Story}</p><p>Shares rose 7%.</p></article></body></html>", "text/html; charset=utf-8"); });
        site.MapGet("/a2", () => { pageHits++; return Results.Text($$"""<html><head><script type="application/ld+json">{"@type":"NewsArticle","articleBody":"{{Story}} Second page."}</script></head><body><p>x</p></body></html>""", "text/html"); });
        await site.StartAsync();
        var url = site.Urls.First();

        using var env = TestEnvironment.Create();
        env.EditFeeds(_ => [new JsonObject { ["id"] = "teasers", ["name"] = "Teasers", ["url"] = url + "/rss", ["internal"] = true, ["fullText"] = true }]);
        using var host = AppHost.BuildTool(env.Paths, env.Clock, verbose: false);
        var pipeline = host.Services.GetRequiredService<FinNewsPipeline>();
        var store = host.Services.GetRequiredService<SqliteStore>();

        await pipeline.IngestAsync(null, CancellationToken.None);
        await pipeline.IngestAsync(null, CancellationToken.None);

        var stored = store.ArticlesInWindow(DateTimeOffset.MinValue, DateTimeOffset.MaxValue, DateTimeOffset.MaxValue);
        stored.Should().HaveCount(3);
        stored.Single(a => a.Title == "Novalux results").Body.Should().Contain("raised its outlook").And.Contain("Shares rose 7%").And.NotContain("Home");
        stored.Single(a => a.Title == "Novalux outlook").Body.Should().EndWith("Second page.");
        stored.Single(a => a.Title == "Gone").Body.Should().BeEmpty("a page that fails keeps the feed's text");
        pageHits.Should().Be(2, "pages are fetched once, for new items only");
    }

    private static string Base(HttpContext ctx) => $"{ctx.Request.Scheme}://{ctx.Request.Host}";
}
