using FinNews.Core.Feeds;
using FinNews.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace FinNews.Tests.Feeds;

/// <summary>Feed autodiscovery: the feeds an HTML page announces, found and offered by `feeds add PAGE`.</summary>
public class FeedDiscoveryTests
{
    private const string Page = """
        <!DOCTYPE html>
        <html><head>
          <base href="https://news.example/sections/">
          <LINK REL="alternate" TYPE="application/rss+xml" TITLE="Markets (RSS)" HREF="markets.rss">
          <link href="/atom/markets.xml" type="application/atom+xml" rel="alternate" title="Markets &amp; Rates (Atom)">
          <link rel="alternate feed" type="application/feed+json" href="https://news.example/markets.json">
          <link rel="alternate" type="application/rss+xml" href="markets.rss">
          <link rel="stylesheet" type="text/css" href="site.css">
          <link rel="alternate" type="text/html" hreflang="de" href="https://news.example/de/">
          <link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">
        </head><body><a href="other.rss">not announced</a></body></html>
        """;

    [Fact]
    public void Finds_announced_feeds_in_page_order_resolved_and_without_duplicates()
    {
        var feeds = FeedDiscovery.Find(Page, new Uri("https://news.example/markets"));

        feeds.Should().Equal(
            new DiscoveredFeed("https://news.example/sections/markets.rss", "Markets (RSS)", "application/rss+xml"),
            new DiscoveredFeed("https://news.example/atom/markets.xml", "Markets & Rates (Atom)", "application/atom+xml"),
            new DiscoveredFeed("https://news.example/markets.json", null, "application/feed+json"));
    }

    [Theory]
    [InlineData("<!DOCTYPE html><html></html>", true)]
    [InlineData("  <html lang=\"en\">", true)]
    [InlineData("<?xml version=\"1.0\"?>\n<!-- generated --><html xmlns=\"http://www.w3.org/1999/xhtml\">", true)]
    [InlineData("<rss version=\"2.0\"/>", false)]
    [InlineData("<feed xmlns=\"http://www.w3.org/2005/Atom\"/>", false)]
    public void Html_is_told_from_feeds(string text, bool html) => FeedDiscovery.IsHtml(text).Should().Be(html);

    [Fact]
    public async Task Feeds_add_on_a_web_page_offers_its_feeds_and_pick_adds_one()
    {
        using var env = TestEnvironment.Create();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var app = builder.Build();
        app.MapGet("/markets", () => Results.Content("""
            <!doctype html><html><head><title>Markets</title>
            <link rel="alternate" type="application/rss+xml" title="Markets wire" href="/feeds/markets.rss">
            <link rel="alternate" type="application/feed+json" title="Markets JSON" href="/feeds/markets.json">
            </head><body>Markets</body></html>
            """, "text/html; charset=utf-8"));
        app.MapGet("/plain", () => Results.Content("<!doctype html><html><head><title>No feeds</title></head></html>", "text/html"));
        app.MapGet("/feeds/markets.rss", () => Results.Text("""
            <rss version="2.0"><channel><title>Markets wire</title><item><title>One</title><link>https://local.example/1</link></item></channel></rss>
            """, "application/rss+xml"));
        app.MapGet("/feeds/markets.json", () => Results.Text("""
            {"version":"https://jsonfeed.org/version/1.1","title":"Markets JSON","items":[{"id":"1","url":"https://local.example/j1","title":"J1"},{"id":"2","url":"https://local.example/j2","title":"J2"}]}
            """, "application/feed+json"));
        await app.StartAsync();
        var root = app.Urls.First().TrimEnd('/');

        var offered = await FinNewsProcess.RunAsync("feeds", "add", root + "/markets", "--internal", "--config", env.ConfigDirectory);
        offered.Code.Should().Be(1, "nothing was added yet");
        offered.Out.Should().Contain("is a web page, not a feed").And.Contain("1. Markets wire (application/rss+xml) " + root + "/feeds/markets.rss")
            .And.Contain("2. Markets JSON (application/feed+json) " + root + "/feeds/markets.json");
        offered.Err.Should().Contain("--pick");

        var none = await FinNewsProcess.RunAsync("feeds", "add", root + "/plain", "--internal", "--config", env.ConfigDirectory);
        none.Code.Should().Be(1);
        none.Err.Should().Contain("links to no feed");

        var picked = await FinNewsProcess.RunAsync("feeds", "add", root + "/markets", "--pick", "2", "--id", "markets-json", "--internal", "--config", env.ConfigDirectory);
        picked.Code.Should().Be(0, picked.Err);
        picked.Out.Should().Contain("Feed markets-json added (2 items");
    }
}
