using System.Net;
using FinNews.Core.Feeds;
using Microsoft.AspNetCore.Http;

namespace FinNews.Tests.Feeds;

/// <summary>
/// Full-text fetches follow links written by the feed, so the links are trusted with nothing: http(s) only, never a
/// file, and an internal feed's permission to reach private addresses stops at its own host.
/// </summary>
public class FullTextSecurityTests
{
    // Longer than FullTextExtractor.MinLength, so a fetched page always yields text.
    private const string Story = "Novalux said data-center revenue rose 44% to $4.91bn in the quarter and raised its outlook for the fourth quarter to $7.30bn, above the $6.95bn analysts expected. The company also approved a $5bn buyback and said supply constraints would ease by spring.";

    [Fact]
    public async Task An_item_link_that_is_not_an_absolute_http_url_never_reads_a_local_file()
    {
        // A file outside the config folder, reachable from it only by climbing out with "..".
        var secretPath = Path.Combine(Path.GetTempPath(), $"finnews-secret-{Guid.NewGuid():N}.html");
        await File.WriteAllTextAsync(secretPath, $"<html><body><article><p>TOPSECRET-7f3a the private key material lives here, and it must never be stored as an article. {Story}</p></article></body></html>");
        try
        {
            var climb = string.Concat(Enumerable.Repeat("../", 40)) + secretPath.TrimStart('/');
            string[] links = [$"http:x/{climb}", $"https:{climb}", $"http:{climb}"];
            await using var server = await FetchTestServer.StartAsync(c => Rss(c, links));
            using var h = new FetchHarness(dns: new Dictionary<string, IPAddress> { ["feed.test"] = IPAddress.Loopback });

            var result = (await h.IngestAsync(new FeedDefinition("teasers", "Teasers", $"http://feed.test:{server.Port}/rss", Internal: true, FullText: true))).Single();

            result.Error.Should().BeNull();
            result.Counts!.Inserted.Should().Be(3, "the items are kept with the feed's own text");
            var stored = h.Store.ArticlesInWindow(DateTimeOffset.MinValue, DateTimeOffset.MaxValue, DateTimeOffset.MaxValue);
            stored.Should().HaveCount(3);
            stored.Should().OnlyContain(a => !a.Body.Contains("TOPSECRET") && !a.Summary.Contains("TOPSECRET"));
            server.Paths.Should().Equal("/rss");
        }
        finally
        {
            File.Delete(secretPath);
        }
    }

    [Theory]
    [InlineData("file:///etc/passwd")]
    [InlineData("ftp://feed.test/a.html")]
    public async Task The_page_fetch_refuses_anything_but_http_and_https(string link)
    {
        using var h = new FetchHarness();

        var act = () => h.Fetcher.FetchPageAsync(new FeedDefinition("teasers", "Teasers", "https://feed.test/rss", Internal: true), new Uri(link), CancellationToken.None);

        (await act.Should().ThrowAsync<FeedFetchException>())
            .WithMessage("Feed 'teasers': an item link that is not an absolute http or https URL is never fetched.");
    }

    [Fact]
    public async Task An_internal_feeds_pages_reach_private_addresses_on_its_own_host_only()
    {
        // Both servers are on loopback; DNS names them as two hosts of a private network.
        await using var other = await FetchTestServer.StartAsync(c => c.Response.WriteAsync($"<html><body><article><p>OTHER-HOST-SECRET {Story}</p></article></body></html>"));
        await using var feedServer = await FetchTestServer.StartAsync(c => c.Request.Path.Value switch
        {
            // The Host header is feed.test:port, so these links point back at this server under its private name.
            "/rss" => Rss(c, [$"http://{c.Request.Host}/own", $"http://other.test:{other.Port}/page", $"http://{c.Request.Host}/hop"]),
            "/own" => c.Response.WriteAsync($"<html><body><article><p>OWN-HOST {Story}</p></article></body></html>"),
            "/hop" => Redirect(c, $"http://other.test:{other.Port}/page"),
            _ => Task.CompletedTask,
        });
        using var h = new FetchHarness(dns: new Dictionary<string, IPAddress> { ["feed.test"] = IPAddress.Loopback, ["other.test"] = IPAddress.Loopback });

        var result = (await h.IngestAsync(new FeedDefinition("intra", "Intra", $"http://feed.test:{feedServer.Port}/rss", Internal: true, FullText: true))).Single();

        result.Error.Should().BeNull();
        var stored = h.Store.ArticlesInWindow(DateTimeOffset.MinValue, DateTimeOffset.MaxValue, DateTimeOffset.MaxValue);
        stored.Should().HaveCount(3);
        stored.Single(a => a.Url.EndsWith("/own", StringComparison.Ordinal)).Body.Should().Contain("OWN-HOST", "the feed's own host keeps the internal permission");
        stored.Should().OnlyContain(a => !a.Body.Contains("OTHER-HOST-SECRET"));
        other.Requests.Should().BeEmpty("another private host is refused before any connection, also when reached by a redirect");
        feedServer.Paths.Should().BeEquivalentTo(["/rss", "/own", "/hop"]);
    }

    [Fact]
    public async Task A_refused_page_on_another_host_says_why_the_internal_permission_did_not_apply()
    {
        using var h = new FetchHarness(dns: new Dictionary<string, IPAddress> { ["feed.test"] = IPAddress.Loopback, ["other.test"] = IPAddress.Parse("10.0.0.7") });
        var feed = new FeedDefinition("intra", "Intra", "http://feed.test:8080/rss", Internal: true, FullText: true);

        var act = () => h.Fetcher.FetchPageAsync(feed, new Uri("http://other.test/page"), CancellationToken.None);

        (await act.Should().ThrowAsync<FeedFetchException>()).WithMessage(
            "Feed 'intra': host other.test resolves to 10.0.0.7 (private address); an internal feed's item pages may reach private addresses only on the feed's own host (feed.test).");
    }

    private static Task Rss(HttpContext context, IEnumerable<string> links)
    {
        context.Response.ContentType = "application/rss+xml; charset=utf-8";
        var items = links.Select((link, i) =>
            $"<item><title>Teaser {i}</title><link>{System.Security.SecurityElement.Escape(link)}</link><guid>t-{i}</guid><description>Teaser {i}.</description></item>");
        return context.Response.WriteAsync($"""<?xml version="1.0"?><rss version="2.0"><channel><title>Teasers</title>{string.Concat(items)}</channel></rss>""");
    }

    private static Task Redirect(HttpContext context, string location)
    {
        context.Response.StatusCode = StatusCodes.Status302Found;
        context.Response.Headers.Location = location;
        return Task.CompletedTask;
    }
}
