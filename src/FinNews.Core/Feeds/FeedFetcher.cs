using System.Net;
using System.Net.Http.Headers;

namespace FinNews.Core.Feeds;

/// <summary>Limits that apply to every feed fetch.</summary>
public sealed class FetchOptions
{
    /// <summary>Whole-request timeout in seconds (connect, headers and body).</summary>
    public int TimeoutSeconds { get; set; } = 20;

    /// <summary>Cap on the decompressed body in bytes; a larger body is refused.</summary>
    public long MaxBodyBytes { get; set; } = 15 * 1024 * 1024;

    /// <summary>Maximum redirects followed.</summary>
    public int MaxRedirects { get; set; } = 5;

    /// <summary>User-Agent sent to publishers.</summary>
    public string UserAgent { get; set; } = "FinNews/1.0 (financial news briefing service)";
}

/// <summary>The result of fetching a feed document.</summary>
/// <param name="NotModified">The server answered 304: nothing new since the stored validators.</param>
/// <param name="Body">The (decompressed) body; empty when not modified.</param>
/// <param name="Charset">Charset from the Content-Type header, if any.</param>
/// <param name="ETag">Validator to send next time.</param>
/// <param name="LastModified">Validator to send next time.</param>
/// <param name="FinalUri">Where the body came from after redirects.</param>
public sealed record FetchResult(bool NotModified, byte[] Body, string? Charset, string? ETag, string? LastModified, Uri? FinalUri);

/// <summary>A fetch that failed for a reason worth showing on the feed-health page.</summary>
public sealed class FeedFetchException : Exception
{
    public FeedFetchException(string message) : base(message) { }
    public FeedFetchException(string message, Exception inner) : base(message, inner) { }
    public FeedFetchException() { }
}

/// <summary>
/// Fetches feed documents: bundled files declared in config, or http(s) with conditional GET, automatic
/// decompression under a size cap, a timeout and a redirect limit.
/// </summary>
public sealed class FeedFetcher
{
    private readonly HttpClient _http;
    private readonly FetchOptions _options;
    private readonly string _configDirectory;

    /// <param name="http">A client whose handler does automatic decompression and no automatic redirects.</param>
    /// <param name="options">Limits.</param>
    /// <param name="configDirectory">Folder that relative (bundled) feed paths resolve against.</param>
    public FeedFetcher(HttpClient http, FetchOptions options, string configDirectory)
    {
        _http = http;
        _options = options;
        _configDirectory = configDirectory;
    }

    /// <summary>The handler FinNews uses for feeds: decompression on, redirects handled by the fetcher.</summary>
    public static SocketsHttpHandler CreateHandler() => new()
    {
        AutomaticDecompression = DecompressionMethods.All,
        AllowAutoRedirect = false,
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        ConnectTimeout = TimeSpan.FromSeconds(10),
    };

    /// <summary>Fetches a feed, sending the stored validators.</summary>
    public async Task<FetchResult> FetchAsync(FeedDefinition feed, string? etag, string? lastModified, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(feed);
        if (feed.IsLocalFile)
        {
            return await ReadLocalAsync(feed, cancellationToken);
        }

        var uri = new Uri(feed.Url);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(_options.TimeoutSeconds));
        try
        {
            for (var hop = 0; ; hop++)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, uri);
                request.Headers.UserAgent.ParseAdd(_options.UserAgent);
                request.Headers.Accept.ParseAdd("application/rss+xml, application/atom+xml, application/rdf+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5");
                if (etag is not null && EntityTagHeaderValue.TryParse(etag, out var tag))
                {
                    request.Headers.IfNoneMatch.Add(tag);
                }

                if (lastModified is not null && DateTimeOffset.TryParse(lastModified, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var since))
                {
                    request.Headers.IfModifiedSince = since;
                }

                using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
                if (IsRedirect(response.StatusCode) && response.Headers.Location is { } location)
                {
                    if (hop >= _options.MaxRedirects)
                    {
                        throw new FeedFetchException($"Feed '{feed.Id}': more than {_options.MaxRedirects} redirects, last to {location}.");
                    }

                    uri = location.IsAbsoluteUri ? location : new Uri(uri, location);
                    continue;
                }

                if (response.StatusCode == HttpStatusCode.NotModified)
                {
                    return new FetchResult(true, [], null, etag, lastModified, uri);
                }

                if (!response.IsSuccessStatusCode)
                {
                    throw new FeedFetchException($"Feed '{feed.Id}': {uri} answered {(int)response.StatusCode} {response.ReasonPhrase}.");
                }

                var body = await ReadCappedAsync(response.Content, feed, timeout.Token);
                return new FetchResult(false, body, response.Content.Headers.ContentType?.CharSet,
                    response.Headers.ETag?.ToString(), response.Content.Headers.LastModified?.ToString("R"), uri);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new FeedFetchException($"Feed '{feed.Id}': no complete answer from {uri} within {_options.TimeoutSeconds} s.");
        }
        catch (HttpRequestException ex)
        {
            throw new FeedFetchException($"Feed '{feed.Id}': {uri} could not be reached: {ex.Message}", ex);
        }
    }

    private async Task<FetchResult> ReadLocalAsync(FeedDefinition feed, CancellationToken cancellationToken)
    {
        // Only files named in the feed list reach this point; they resolve inside the config folder.
        var path = Path.GetFullPath(Path.Combine(_configDirectory, feed.Url));
        if (!File.Exists(path))
        {
            throw new FeedFetchException($"Feed '{feed.Id}': file '{path}' does not exist.");
        }

        var info = new FileInfo(path);
        if (info.Length > _options.MaxBodyBytes)
        {
            throw new FeedFetchException($"Feed '{feed.Id}': file '{path}' is {info.Length} bytes, over the {_options.MaxBodyBytes}-byte limit.");
        }

        var body = await File.ReadAllBytesAsync(path, cancellationToken);
        var stamp = info.LastWriteTimeUtc.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        return new FetchResult(false, body, null, null, stamp, new Uri(path));
    }

    private async Task<byte[]> ReadCappedAsync(HttpContent content, FeedDefinition feed, CancellationToken cancellationToken)
    {
        if (content.Headers.ContentLength is { } declared && declared > _options.MaxBodyBytes)
        {
            throw new FeedFetchException($"Feed '{feed.Id}': body of {declared} bytes is over the {_options.MaxBodyBytes}-byte limit.");
        }

        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
        {
            // Counted after decompression: a small gzip body that inflates past the cap is refused here.
            if (buffer.Length + read > _options.MaxBodyBytes)
            {
                throw new FeedFetchException($"Feed '{feed.Id}': decompressed body exceeds the {_options.MaxBodyBytes}-byte limit.");
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    private static bool IsRedirect(HttpStatusCode code) => code is HttpStatusCode.MovedPermanently or HttpStatusCode.Found
        or HttpStatusCode.SeeOther or HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect;
}
