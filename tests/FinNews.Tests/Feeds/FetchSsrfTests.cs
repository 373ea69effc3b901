using System.Net;
using System.Net.Sockets;
using FinNews.Core.Feeds;

namespace FinNews.Tests.Feeds;

/// <summary>The SSRF guard: addresses refused at connect time unless the feed is internal.</summary>
public class FetchSsrfTests
{
    [Theory]
    [InlineData("10.0.0.5", "private")]
    [InlineData("169.254.169.254", "link-local (cloud metadata)")]
    [InlineData("127.0.0.1", "loopback")]
    [InlineData("::ffff:10.0.0.5", "private")]
    public async Task A_host_resolving_to_a_non_public_address_is_refused_before_any_connection(string address, string kind)
    {
        var resolved = new List<string>();
        var guard = new SsrfGuard((host, _) =>
        {
            resolved.Add(host);
            return Task.FromResult(new[] { IPAddress.Parse(address) });
        });
        using var http = new HttpClient(FeedFetcher.CreateHandler(guard));
        var fetcher = new FeedFetcher(http, new FetchOptions(), ".");

        var act = () => fetcher.FetchAsync(new FeedDefinition("x", "X", "http://feed.test/rss"), null, null, CancellationToken.None);

        (await act.Should().ThrowAsync<FeedFetchException>())
            .WithMessage($"Feed 'x': host feed.test resolves to {IPAddress.Parse(address)} ({kind} address); mark the feed internal to allow it.");
        resolved.Should().Equal("feed.test");
    }

    [Fact]
    public async Task A_refused_loopback_host_never_reaches_the_server_and_an_internal_feed_does()
    {
        await using var server = await FetchTestServer.StartAsync(c => FetchFeeds.WriteRss(c));
        using var h = new FetchHarness(dns: new Dictionary<string, IPAddress> { ["feed.test"] = IPAddress.Loopback });
        var url = $"http://feed.test:{server.Port}/rss";

        var refused = (await h.IngestAsync(new FeedDefinition("public", "Public", url))).Single();

        refused.Error.Should().Be("Feed 'public': host feed.test resolves to 127.0.0.1 (loopback address); mark the feed internal to allow it.");
        server.Requests.Should().BeEmpty("the guard refuses before connecting");

        var allowed = (await h.IngestAsync(new FeedDefinition("private", "Private", url, Internal: true))).Single();

        allowed.Error.Should().BeNull();
        allowed.Counts!.Inserted.Should().Be(2);
        server.Requests.Single().Host.Should().Be($"feed.test:{server.Port}", "the guard connects to the vetted IP but keeps the host name");
    }

    [Fact]
    public async Task A_public_feed_never_reuses_a_pooled_connection_opened_for_an_internal_feed_on_the_same_host()
    {
        await using var server = await FetchTestServer.StartAsync(c => FetchFeeds.WriteRss(c));
        using var h = new FetchHarness(dns: new Dictionary<string, IPAddress> { ["feed.test"] = IPAddress.Loopback });
        var url = $"http://feed.test:{server.Port}/rss";

        (await h.IngestAsync(new FeedDefinition("private", "Private", url, Internal: true))).Single().Error.Should().BeNull();
        var result = (await h.IngestAsync(new FeedDefinition("public", "Public", url))).Single();

        result.Error.Should().Contain("(loopback address)");
        server.Requests.Should().HaveCount(1);
    }

    [Fact]
    public async Task A_literal_loopback_url_is_refused_unless_internal()
    {
        await using var server = await FetchTestServer.StartAsync(c => FetchFeeds.WriteRss(c));
        using var h = new FetchHarness();

        var result = (await h.IngestAsync(new FeedDefinition("lit", "Lit", server.Url("/rss")))).Single();

        result.Error.Should().Be($"Feed 'lit': host 127.0.0.1 resolves to 127.0.0.1 (loopback address); mark the feed internal to allow it.");
        server.Requests.Should().BeEmpty();
    }

    [Fact]
    public async Task The_metadata_address_is_refused_unless_the_feed_is_internal()
    {
        var guard = new SsrfGuard((host, _) => Task.FromResult(host switch
        {
            "metadata.test" => new[] { IPAddress.Parse("169.254.169.254") },
            _ => throw new SocketException((int)SocketError.HostNotFound),
        }));

        var act = () => guard.ResolveAsync("metadata.test", "x", allowInternal: false, CancellationToken.None);

        (await act.Should().ThrowAsync<FeedAddressRefusedException>()).WithMessage("*169.254.169.254 (link-local (cloud metadata) address)*");
        (await guard.ResolveAsync("metadata.test", "x", allowInternal: true, CancellationToken.None)).Should().ContainSingle();
    }

    [Fact]
    public async Task One_refused_address_among_several_refuses_the_host()
    {
        var guard = new SsrfGuard((_, _) => Task.FromResult(new[] { IPAddress.Parse("93.184.216.34"), IPAddress.Parse("10.1.2.3") }));

        var act = () => guard.ResolveAsync("mixed.test", "x", allowInternal: false, CancellationToken.None);

        (await act.Should().ThrowAsync<FeedAddressRefusedException>())
            .WithMessage("Feed 'x': host mixed.test resolves to 10.1.2.3 (private address); mark the feed internal to allow it.");
    }

    [Theory]
    [InlineData("127.0.0.1", "loopback")]
    [InlineData("127.255.255.254", "loopback")]
    [InlineData("::1", "loopback")]
    [InlineData("10.0.0.1", "private")]
    [InlineData("172.16.0.1", "private")]
    [InlineData("172.31.255.255", "private")]
    [InlineData("192.168.1.1", "private")]
    [InlineData("fc00::1", "private")]
    [InlineData("fd00:ec2::254", "private")]
    [InlineData("169.254.0.1", "link-local")]
    [InlineData("169.254.169.254", "link-local (cloud metadata)")]
    [InlineData("fe80::1", "link-local")]
    [InlineData("0.0.0.0", "unspecified")]
    [InlineData("::", "unspecified")]
    [InlineData("224.0.0.1", "multicast")]
    [InlineData("ff02::1", "multicast")]
    [InlineData("100.64.0.1", "shared (CGNAT)")]
    [InlineData("100.127.255.255", "shared (CGNAT)")]
    [InlineData("255.255.255.255", "reserved")]
    [InlineData("::ffff:127.0.0.1", "loopback")]
    [InlineData("::ffff:169.254.169.254", "link-local (cloud metadata)")]
    [InlineData("::ffff:192.168.0.1", "private")]
    [InlineData("::10.0.0.1", "private")]
    [InlineData("64:ff9b::a00:1", "private")]
    [InlineData("2002:a00:1::1", "private")]
    [InlineData("2002:7f00:1::1", "loopback")]
    [InlineData("2002:a9fe:a9fe::", "link-local (cloud metadata)")]
    [InlineData("::ffff:0:7f00:1", "loopback")]
    [InlineData("::ffff:0:a00:1", "private")]
    [InlineData("64:ff9b::7f00:1", "loopback")]
    [InlineData("64:ff9b::a9fe:a9fe", "link-local (cloud metadata)")]
    [InlineData("64:ff9b:1::a00:1", "private (local-use NAT64)")]
    [InlineData("64:ff9b:1:abcd::808:808", "private (local-use NAT64)")]
    [InlineData("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo tunnel")]
    [InlineData("2001::", "Teredo tunnel")]
    [InlineData("2001:0:ffff:ffff:ffff:ffff:ffff:ffff", "Teredo tunnel")]
    public void Non_public_addresses_are_classified(string address, string kind) =>
        SsrfGuard.Classify(IPAddress.Parse(address)).Should().Be(kind);

    [Theory]
    [InlineData("93.184.216.34")]
    [InlineData("8.8.8.8")]
    [InlineData("172.32.0.1")]
    [InlineData("100.128.0.1")]
    [InlineData("192.169.0.1")]
    [InlineData("2606:4700::1111")]
    [InlineData("::ffff:8.8.8.8")]
    [InlineData("64:ff9b::808:808")]
    [InlineData("2002:808:808::1")]
    [InlineData("2001:4860:4860::8888")]
    [InlineData("2001:1::1")]
    public void Public_addresses_are_allowed(string address) =>
        SsrfGuard.Classify(IPAddress.Parse(address)).Should().BeNull();

    [Theory]
    [InlineData("http://internal.test:{port}/rss", "internal.test", "127.0.0.1 (loopback address)")]
    [InlineData("http://127.0.0.1:{port}/rss", "127.0.0.1", "127.0.0.1 (loopback address)")]
    [InlineData("http://[::ffff:127.0.0.1]:{port}/rss", "[::ffff:127.0.0.1]", "::ffff:127.0.0.1 (loopback address)")]
    [InlineData("http://teredo.test:{port}/rss", "teredo.test", "2001:0:4136:e378:8000:63bf:3fff:fdd2 (Teredo tunnel address)")]
    public async Task A_redirect_from_a_public_feed_to_an_internal_address_is_refused(string target, string host, string refusal)
    {
        await using var inside = await FetchTestServer.StartAsync(c => FetchFeeds.WriteRss(c, "inside"));
        var location = target.Replace("{port}", inside.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        await using var outside = await FetchTestServer.StartAsync(c =>
        {
            c.Response.StatusCode = 302;
            c.Response.Headers.Location = location;
            return Task.CompletedTask;
        });
        var guard = new SsrfGuard((name, _) => Task.FromResult(name switch
        {
            "internal.test" => new[] { IPAddress.Loopback },
            "teredo.test" => new[] { IPAddress.Parse("2001:0:4136:e378:8000:63bf:3fff:fdd2") },
            _ => throw new SocketException((int)SocketError.HostNotFound),
        }));
        using var handler = FeedFetcher.CreateHandler(guard);
        var vetted = handler.ConnectCallback!;
        // The network as seen from the server: public.test is a host on the internet (here, the outside server);
        // every other connection, each redirect hop included, goes through the guard as in production.
        handler.ConnectCallback = async (context, ct) =>
        {
            if (context.DnsEndPoint.Host != "public.test")
            {
                return await vetted(context, ct);
            }

            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, outside.Port), ct);
            return new NetworkStream(socket, ownsSocket: true);
        };
        using var http = new HttpClient(handler, disposeHandler: false);
        var fetcher = new FeedFetcher(http, new FetchOptions(), ".");

        var act = () => fetcher.FetchAsync(new FeedDefinition("public", "Public", $"http://public.test:{outside.Port}/rss"), null, null, CancellationToken.None);

        (await act.Should().ThrowAsync<FeedFetchException>())
            .WithMessage($"Feed 'public': host {host} resolves to {refusal}; mark the feed internal to allow it.");
        outside.Requests.Should().ContainSingle("the public feed was asked");
        inside.Requests.Should().BeEmpty("the redirect to the internal address was refused before connecting");
    }
}
