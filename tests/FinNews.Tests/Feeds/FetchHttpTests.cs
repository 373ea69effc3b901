using System.Diagnostics;
using System.IO.Compression;
using Microsoft.AspNetCore.Http;

namespace FinNews.Tests.Feeds;

/// <summary>The fetcher against real loopback HTTP servers: validators, redirects, compression limits, timeouts.</summary>
public class FetchHttpTests
{
    [Fact]
    public async Task A_normal_feed_round_trip_stores_its_items_and_names_the_product_in_the_user_agent()
    {
        await using var server = await FetchTestServer.StartAsync(c => FetchFeeds.WriteRss(c));
        using var h = new FetchHarness();
        var feed = FetchFeeds.Internal("wire", server.Url("/rss"));

        var result = (await h.IngestAsync(feed)).Single();

        result.Error.Should().BeNull();
        result.Counts!.Inserted.Should().Be(2);
        h.Store.CountArticles().Should().Be(2);
        server.Requests.Single().UserAgent.Should().Contain("FinNews");
        var state = h.State("wire");
        state.LastSuccessAt.Should().Be(h.Clock.Now);
        state.NextPollAt.Should().Be(h.Clock.Now.AddMinutes(30), "a healthy feed is polled again after its interval");
    }

    [Fact]
    public async Task A_second_fetch_sends_the_ETag_and_a_304_stores_nothing_new()
    {
        await using var server = await FetchTestServer.StartAsync(c =>
        {
            if (c.Request.Headers.IfNoneMatch == "\"v1\"")
            {
                c.Response.StatusCode = StatusCodes.Status304NotModified;
                return Task.CompletedTask;
            }

            c.Response.Headers.ETag = "\"v1\"";
            return FetchFeeds.WriteRss(c);
        });
        using var h = new FetchHarness();
        var feed = FetchFeeds.Internal("wire", server.Url("/rss"));

        (await h.IngestAsync(feed)).Single().Counts!.Inserted.Should().Be(2);
        h.State("wire").ETag.Should().Be("\"v1\"");
        var second = (await h.IngestAsync(feed)).Single();

        server.Requests.Last().IfNoneMatch.Should().Be("\"v1\"");
        second.NotModified.Should().BeTrue();
        second.Counts.Should().Be(new FinNews.Core.Feeds.IngestCounts(0, 0, 0));
        h.Store.CountArticles().Should().Be(2);
        h.State("wire").ETag.Should().Be("\"v1\"", "a 304 keeps the validator");
    }

    [Fact]
    public async Task A_second_fetch_sends_If_Modified_Since_from_Last_Modified_and_a_304_stores_nothing_new()
    {
        const string stamp = "Fri, 20 Nov 2026 08:00:00 GMT";
        await using var server = await FetchTestServer.StartAsync(c =>
        {
            if (c.Request.Headers.IfModifiedSince == stamp)
            {
                c.Response.StatusCode = StatusCodes.Status304NotModified;
                return Task.CompletedTask;
            }

            c.Response.Headers.LastModified = stamp;
            return FetchFeeds.WriteRss(c);
        });
        using var h = new FetchHarness();
        var feed = FetchFeeds.Internal("wire", server.Url("/rss"));

        await h.IngestAsync(feed);
        h.State("wire").LastModified.Should().Be(stamp);
        h.State("wire").ETag.Should().BeNull();
        var second = (await h.IngestAsync(feed)).Single();

        server.Requests.First().IfModifiedSince.Should().BeNull();
        server.Requests.Last().IfModifiedSince.Should().Be(stamp);
        second.NotModified.Should().BeTrue();
        h.Store.CountArticles().Should().Be(2);
    }

    [Theory]
    [InlineData(301)]
    [InlineData(308)]
    public async Task A_permanent_redirect_rewrites_the_stored_url_and_the_next_fetch_goes_to_the_new_one(int status)
    {
        await using var server = await FetchTestServer.StartAsync(c => c.Request.Path == "/old"
            ? Redirect(c, status, "/new")
            : FetchFeeds.WriteRss(c));
        using var h = new FetchHarness();
        var feed = FetchFeeds.Internal("wire", server.Url("/old"));

        (await h.IngestAsync(feed)).Single().Counts!.Inserted.Should().Be(2);
        var state = h.State("wire");
        state.CurrentUrl.Should().Be(server.Url("/new"));
        state.Url.Should().Be(server.Url("/old"), "the configured URL stays the feed's identity");

        await h.IngestAsync(feed);
        server.Paths.Should().Equal("/old", "/new", "/new");

        // SyncFeeds on the next pass must not forget the move while the config is unchanged.
        h.State("wire").CurrentUrl.Should().Be(server.Url("/new"));
    }

    [Theory]
    [InlineData(302)]
    [InlineData(303)]
    [InlineData(307)]
    public async Task A_temporary_redirect_is_followed_but_not_remembered(int status)
    {
        await using var server = await FetchTestServer.StartAsync(c => c.Request.Path == "/old"
            ? Redirect(c, status, "/new")
            : FetchFeeds.WriteRss(c));
        using var h = new FetchHarness();
        var feed = FetchFeeds.Internal("wire", server.Url("/old"));

        (await h.IngestAsync(feed)).Single().Counts!.Inserted.Should().Be(2);
        h.State("wire").CurrentUrl.Should().BeNull();
        await h.IngestAsync(feed);

        server.Paths.Should().Equal("/old", "/new", "/old", "/new");
    }

    [Fact]
    public async Task Only_the_permanent_prefix_of_a_redirect_chain_is_remembered()
    {
        // /a -301-> /b -302-> /c: /b is where the feed lives now; /c is only today's answer.
        await using var server = await FetchTestServer.StartAsync(c => c.Request.Path.Value switch
        {
            "/a" => Redirect(c, 301, "/b"),
            "/b" => Redirect(c, 302, "/c"),
            _ => FetchFeeds.WriteRss(c),
        });
        using var h = new FetchHarness();

        await h.IngestAsync(FetchFeeds.Internal("wire", server.Url("/a")));

        h.State("wire").CurrentUrl.Should().Be(server.Url("/b"));
    }

    [Fact]
    public async Task Changing_the_configured_url_forgets_the_url_learned_from_a_redirect()
    {
        await using var server = await FetchTestServer.StartAsync(c => c.Request.Path == "/old"
            ? Redirect(c, 301, "/new")
            : FetchFeeds.WriteRss(c));
        using var h = new FetchHarness();
        await h.IngestAsync(FetchFeeds.Internal("wire", server.Url("/old")));
        h.State("wire").CurrentUrl.Should().NotBeNull();

        await h.IngestAsync(FetchFeeds.Internal("wire", server.Url("/other")));

        h.State("wire").CurrentUrl.Should().BeNull();
        server.Paths.Last().Should().Be("/other");
    }

    [Fact]
    public async Task A_redirect_loop_stops_with_a_clear_error()
    {
        await using var server = await FetchTestServer.StartAsync(c => Redirect(c, 302, c.Request.Path == "/a" ? "/b" : "/a"));
        using var h = new FetchHarness();

        var result = (await h.IngestAsync(FetchFeeds.Internal("wire", server.Url("/a")))).Single();

        result.Error.Should().Be($"Feed 'wire': redirect loop: {server.Url("/a")} -> {server.Url("/b")} -> {server.Url("/a")}.");
        server.Paths.Should().Equal("/a", "/b");
        h.State("wire").ErrorCount.Should().Be(1);
    }

    [Fact]
    public async Task A_redirect_chain_longer_than_the_limit_stops()
    {
        // /r/1 -> /r/2 -> ... never repeats, so only the hop limit ends it.
        await using var server = await FetchTestServer.StartAsync(c =>
            Redirect(c, 302, "/r/" + (int.Parse(c.Request.Path.Value!["/r/".Length..], System.Globalization.CultureInfo.InvariantCulture) + 1)));
        using var h = new FetchHarness(fetch: o => o.MaxRedirects = 3);

        var result = (await h.IngestAsync(FetchFeeds.Internal("wire", server.Url("/r/1")))).Single();

        result.Error.Should().StartWith("Feed 'wire': more than 3 redirects:");
        server.Paths.Should().Equal("/r/1", "/r/2", "/r/3", "/r/4");
    }

    [Fact]
    public async Task A_gzip_feed_is_decompressed()
    {
        var compressed = Gzip(System.Text.Encoding.UTF8.GetBytes(FetchFeeds.Rss()));
        await using var server = await FetchTestServer.StartAsync(c =>
        {
            c.Response.Headers.ContentEncoding = "gzip";
            c.Response.ContentType = "application/rss+xml";
            return c.Response.Body.WriteAsync(compressed).AsTask();
        });
        using var h = new FetchHarness();

        var result = (await h.IngestAsync(FetchFeeds.Internal("wire", server.Url("/rss")))).Single();

        result.Counts!.Inserted.Should().Be(2);
        server.Requests.Single().AcceptEncoding.Should().Contain("gzip").And.Contain("br");
    }

    [Fact]
    public async Task A_small_gzip_body_that_inflates_past_the_cap_is_refused()
    {
        var bomb = Gzip(Enumerable.Repeat((byte)' ', 20 * 1024 * 1024).ToArray());
        bomb.Length.Should().BeLessThan(100 * 1024, "the point is a small download that inflates");
        await using var server = await FetchTestServer.StartAsync(c =>
        {
            c.Response.Headers.ContentEncoding = "gzip";
            c.Response.ContentType = "application/rss+xml";
            c.Response.ContentLength = bomb.Length;
            return c.Response.Body.WriteAsync(bomb).AsTask();
        });
        using var h = new FetchHarness(fetch: o => o.MaxBodyBytes = 1024 * 1024);

        var result = (await h.IngestAsync(FetchFeeds.Internal("wire", server.Url("/rss")))).Single();

        result.Error.Should().Be("Feed 'wire': decompressed body exceeds the 1048576-byte limit.");
        h.Store.CountArticles().Should().Be(0);
    }

    [Fact]
    public async Task A_body_that_never_ends_times_out_within_the_whole_request_timeout()
    {
        await using var server = await FetchTestServer.StartAsync(async c =>
        {
            c.Response.ContentType = "application/rss+xml";
            await c.Response.WriteAsync("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel>");
            await c.Response.Body.FlushAsync();
            // Headers and a few bytes arrived; the rest never comes.
            await Task.Delay(Timeout.Infinite, c.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
        });
        using var h = new FetchHarness(fetch: o => o.TimeoutSeconds = 2);
        var clock = Stopwatch.StartNew();

        var result = (await h.IngestAsync(FetchFeeds.Internal("wire", server.Url("/rss")))).Single();

        clock.Elapsed.Should().BeGreaterThan(TimeSpan.FromSeconds(1.5)).And.BeLessThan(TimeSpan.FromSeconds(10));
        result.Error.Should().Be($"Feed 'wire': no complete answer from {server.Url("/rss")} within 2 s.");
    }

    [Fact]
    public async Task A_server_error_is_recorded_with_its_status()
    {
        await using var server = await FetchTestServer.StartAsync(c =>
        {
            c.Response.StatusCode = 500;
            return Task.CompletedTask;
        });
        using var h = new FetchHarness();

        var result = (await h.IngestAsync(FetchFeeds.Internal("wire", server.Url("/rss")))).Single();

        result.Error.Should().Be($"Feed 'wire': {server.Url("/rss")} answered 500 Internal Server Error.");
    }

    internal static Task Redirect(HttpContext c, int status, string location)
    {
        c.Response.StatusCode = status;
        c.Response.Headers.Location = location;
        return Task.CompletedTask;
    }

    private static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.SmallestSize))
        {
            gzip.Write(data);
        }

        return output.ToArray();
    }
}
