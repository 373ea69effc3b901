using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace FinNews.Tests.Feeds;

/// <summary>
/// Feed errors are shown on the feed-health page and API; they say what went wrong without quoting what the server
/// sent, because the server may be an internal one whose answer is private.
/// </summary>
public class FetchErrorMessageTests
{
    private const string Secret = "Zq7SECRET";

    [Theory]
    [InlineData("Zq7SECRET=hunter2 is the admin password", "The document is not XML or JSON: it does not start with '<' or '{'.")]
    [InlineData("""{"Zq7SECRET": "hunter2"}""", "The document is JSON but not a JSON Feed (no jsonfeed.org version and no items).")]
    [InlineData("<Zq7SECRET>hunter2</Zq7SECRET>", "Not a feed: the root element is another element; expected <rss>, <rdf:RDF> or <feed>.")]
    [InlineData("<rss><channel><title>t</Zq7SECRET></channel></rss>", "The feed is not well-formed XML at Line 1, position 25.")]
    public async Task A_parse_failure_says_what_is_wrong_without_quoting_the_body(string body, string error)
    {
        await using var server = await FetchTestServer.StartAsync(c => c.Response.WriteAsync(body));
        using var h = new FetchHarness();

        var result = (await h.IngestAsync(FetchFeeds.Internal("intra", server.Url("/rss")))).Single();

        result.Error.Should().Be(error);
        h.State("intra").LastError.Should().Be(error);
    }

    [Fact]
    public async Task A_status_failure_names_the_standard_reason_not_the_servers()
    {
        await using var server = await FetchTestServer.StartAsync(c =>
        {
            c.Response.StatusCode = 503;
            c.Features.Get<IHttpResponseFeature>()!.ReasonPhrase = Secret;
            return Task.CompletedTask;
        });
        using var h = new FetchHarness();

        var result = (await h.IngestAsync(FetchFeeds.Internal("intra", server.Url("/rss")))).Single();

        result.Error.Should().Be($"Feed 'intra': {server.Url("/rss")} answered 503 Service Unavailable.");
    }

    [Fact]
    public async Task A_non_http_service_answering_is_described_not_quoted()
    {
        // An SSH-like banner where an HTTP status line should be: HttpClient's own message quotes that line.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var serve = Task.Run(async () =>
        {
            using var client = await listener.AcceptTcpClientAsync();
            var stream = client.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"SSH-2.0-OpenSSH_9.6 {Secret}\r\n"));
            await stream.FlushAsync();
            await Task.Delay(200);
        });
        using var h = new FetchHarness();

        var result = (await h.IngestAsync(FetchFeeds.Internal("intra", $"http://127.0.0.1:{port}/rss"))).Single();
        await serve;

        result.Error.Should().Be($"Feed 'intra': http://127.0.0.1:{port}/rss could not be reached: the answer is not a valid HTTP response.");
    }

    [Fact]
    public async Task A_compressed_body_that_does_not_decompress_is_a_feed_error_not_a_crash()
    {
        await using var server = await FetchTestServer.StartAsync(async c =>
        {
            c.Response.Headers.ContentEncoding = "gzip";
            await c.Response.Body.WriteAsync(new byte[] { 0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0, 0xff, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0x02, 0x03 });
        });
        using var h = new FetchHarness();

        var result = (await h.IngestAsync(FetchFeeds.Internal("intra", server.Url("/rss")))).Single();

        result.Error.Should().Be($"Feed 'intra': the compressed answer from {server.Url("/rss")} could not be decompressed.");
        result.Counts.Should().BeNull();
    }
}
