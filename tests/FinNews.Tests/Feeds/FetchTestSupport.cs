using System.Collections.Concurrent;
using System.Net;
using FinNews.Core.Feeds;
using FinNews.Core.Storage.Sqlite;
using FinNews.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FinNews.Tests.Feeds;

/// <summary>What a loopback feed server saw.</summary>
internal sealed record SeenRequest(string Path, string? Host, string? IfNoneMatch, string? IfModifiedSince, string? UserAgent, string? AcceptEncoding);

/// <summary>A real Kestrel server on 127.0.0.1 with a random port, answering with a test's handler and recording requests.</summary>
internal sealed class FetchTestServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private FetchTestServer(WebApplication app, Uri baseUri)
    {
        _app = app;
        BaseUri = baseUri;
    }

    public Uri BaseUri { get; }

    public int Port => BaseUri.Port;

    public ConcurrentQueue<SeenRequest> Requests { get; } = new();

    public IEnumerable<string> Paths => Requests.Select(r => r.Path);

    public string Url(string path) => new Uri(BaseUri, path).AbsoluteUri;

    public static async Task<FetchTestServer> StartAsync(Func<HttpContext, Task> handler)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        FetchTestServer? server = null;
        app.Run(async context =>
        {
            var h = context.Request.Headers;
            server!.Requests.Enqueue(new SeenRequest(context.Request.Path + context.Request.QueryString, h.Host.ToString(),
                NullIfEmpty(h.IfNoneMatch), NullIfEmpty(h.IfModifiedSince), NullIfEmpty(h.UserAgent), NullIfEmpty(h.AcceptEncoding)));
            await handler(context);
        });
        await app.StartAsync();
        server = new FetchTestServer(app, new Uri(app.Urls.Single()));
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        await _app.StopAsync(stop.Token);
        await _app.DisposeAsync();
    }

    private static string? NullIfEmpty(Microsoft.Extensions.Primitives.StringValues v) => v.Count == 0 ? null : v.ToString();
}

/// <summary>The real fetcher, store and ingestor in a temp folder, on a manual clock and a fixed DNS map.</summary>
internal sealed class FetchHarness : IDisposable
{
    private readonly string _root;
    private readonly HttpClient _http;

    public FetchHarness(Action<FetchOptions>? fetch = null, Action<PollOptions>? poll = null, IReadOnlyDictionary<string, IPAddress>? dns = null)
    {
        _root = Path.Combine(Path.GetTempPath(), "finnews-tests", "fetch-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(_root);
        Store = new SqliteStore(Path.Combine(_root, "finnews.db"));
        Store.Initialize();
        fetch?.Invoke(FetchOptions);
        // Deterministic by default: base 60 s, no jitter, so schedules are exact.
        Poll.BackoffBaseSeconds = 60;
        Poll.BackoffMaxSeconds = 3600;
        poll?.Invoke(Poll);
        Dns = dns ?? new Dictionary<string, IPAddress>();
        var guard = new SsrfGuard((host, _) => Dns.TryGetValue(host, out var a)
            ? Task.FromResult(new[] { a })
            : throw new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.HostNotFound));
        _http = new HttpClient(FeedFetcher.CreateHandler(guard)) { Timeout = Timeout.InfiniteTimeSpan };
        Fetcher = new FeedFetcher(_http, FetchOptions, _root);
        Policy = new FeedPollPolicy(Poll, Clock, () => Jitter);
        Ingestor = new FeedIngestor(Fetcher, new ArticleNormalizer(new TickerTagger(new Watchlist([]))), Store, Store, Clock, NullLogger<FeedIngestor>.Instance, Policy);
    }

    /// <summary>The temp folder: the fetcher's config folder (local feed files resolve here) and the database's.</summary>
    public string Root => _root;

    public ManualTimeProvider Clock { get; } = new(Some.Day);

    public FetchOptions FetchOptions { get; } = new();

    public PollOptions Poll { get; } = new();

    /// <summary>The jitter source's next value; 0.5 is no jitter.</summary>
    public double Jitter { get; set; } = 0.5;

    public IReadOnlyDictionary<string, IPAddress> Dns { get; }

    public SqliteStore Store { get; }

    public FeedFetcher Fetcher { get; }

    public FeedPollPolicy Policy { get; }

    public FeedIngestor Ingestor { get; }

    public FeedState State(string id) => Store.GetFeedState(id)!;

    public Task<IReadOnlyList<FeedRunResult>> IngestAsync(params FeedDefinition[] feeds) => Ingestor.IngestAsync(feeds, null, CancellationToken.None);

    public Task<IReadOnlyList<FeedRunResult>> IngestDueAsync(params FeedDefinition[] feeds) => Ingestor.IngestDueAsync(feeds, null, CancellationToken.None);

    public void Dispose()
    {
        _http.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // Another test's pooled connection may hold the file a moment longer; the OS cleans temp.
        }
    }
}

/// <summary>Feed documents served by the loopback servers.</summary>
internal static class FetchFeeds
{
    public static FeedDefinition Internal(string id, string url, int intervalMinutes = 30) =>
        new(id, id, url, IntervalMinutes: intervalMinutes, Internal: true);

    public static string Rss(string prefix = "item", int count = 2) => $"""
        <?xml version="1.0" encoding="utf-8"?>
        <rss version="2.0"><channel><title>Loopback Wire</title><link>https://wire.example/</link><description>test</description>
        {string.Concat(Enumerable.Range(1, count).Select(i => $"""
          <item><title>{prefix} headline {i}</title><link>https://wire.example/{prefix}/{i}</link><guid>https://wire.example/{prefix}/{i}</guid>
            <description>Story {i} about markets.</description><pubDate>Fri, 20 Nov 2026 08:0{i % 10}:00 GMT</pubDate></item>
          """))}
        </channel></rss>
        """;

    public static Task WriteRss(HttpContext context, string? prefix = null)
    {
        context.Response.ContentType = "application/rss+xml; charset=utf-8";
        return context.Response.WriteAsync(Rss(prefix ?? "item"));
    }
}
