using System.Globalization;
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
/// <param name="MovedTo">
/// Set when the feed answered with permanent redirects (301/308) only, up to this URL: later fetches should start
/// there. A temporary redirect (302/303/307) anywhere before it stops the chain, because its target may change back.
/// </param>
public sealed record FetchResult(bool NotModified, byte[] Body, string? Charset, string? ETag, string? LastModified, Uri? FinalUri,
    Uri? MovedTo = null);

/// <summary>A fetch that failed for a reason worth showing on the feed-health page.</summary>
public sealed class FeedFetchException : Exception
{
    public FeedFetchException(string message) : base(message) { }
    public FeedFetchException(string message, Exception inner) : base(message, inner) { }
    public FeedFetchException() { }

    /// <summary>The HTTP status that failed the fetch, when it got that far.</summary>
    public int? StatusCode { get; init; }

    /// <summary>The server's Retry-After on a 429 or 503, if it sent one.</summary>
    public RetryAfter? RetryAfter { get; init; }
}

/// <summary>
/// Fetches feed documents: bundled files declared in config, or http(s) with conditional GET, automatic
/// decompression under a size cap, a whole-request timeout, a redirect limit with loop detection and the SSRF guard.
/// </summary>
public sealed class FeedFetcher
{
    private readonly HttpClient _http;
    private readonly FetchOptions _options;
    private readonly string _configDirectory;

    /// <param name="http">A client over <see cref="CreateHandler"/> (decompression on, no automatic redirects, SSRF guard).</param>
    /// <param name="options">Limits.</param>
    /// <param name="configDirectory">Folder that relative (bundled) feed paths resolve against.</param>
    public FeedFetcher(HttpClient http, FetchOptions options, string configDirectory)
    {
        _http = http;
        _options = options;
        _configDirectory = configDirectory;
    }

    /// <summary>
    /// The handler FinNews uses for feeds: decompression on, redirects handled by the fetcher (so each hop is counted,
    /// checked for loops and classified as permanent or temporary), and every connection vetted by the SSRF guard.
    /// </summary>
    /// <param name="guard">The guard; one over the system resolver when null.</param>
    public static SocketsHttpHandler CreateHandler(SsrfGuard? guard = null) => new()
    {
        AutomaticDecompression = DecompressionMethods.All,
        AllowAutoRedirect = false,
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        ConnectTimeout = TimeSpan.FromSeconds(10),
        // Through a proxy the connect callback would vet the proxy's address, not the feed's: the guard needs direct connections.
        UseProxy = false,
        ConnectCallback = (guard ?? new SsrfGuard()).ConnectAsync,
    };

    /// <summary>Fetches a feed at its configured URL, sending the stored validators.</summary>
    public Task<FetchResult> FetchAsync(FeedDefinition feed, string? etag, string? lastModified, CancellationToken cancellationToken) =>
        FetchAsync(feed, null, etag, lastModified, cancellationToken);

    /// <summary>
    /// Fetches a feed, sending the stored validators. <paramref name="currentUrl"/> is where a permanent redirect moved
    /// the feed (null: the configured URL).
    /// </summary>
    public async Task<FetchResult> FetchAsync(FeedDefinition feed, string? currentUrl, string? etag, string? lastModified, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(feed);
        if (feed.IsLocalFile)
        {
            return await ReadLocalAsync(feed, cancellationToken);
        }

        var uri = new Uri(currentUrl ?? feed.Url);
        var visited = new List<Uri> { uri };
        Uri? movedTo = null;
        var permanentSoFar = true;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // One deadline for the whole fetch: every hop, the headers and the body, so a server that trickles bytes forever still ends.
        timeout.CancelAfter(TimeSpan.FromSeconds(_options.TimeoutSeconds));
        try
        {
            while (true)
            {
                using var request = CreateRequest(feed, uri, etag, lastModified);
                using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
                if (IsRedirect(response.StatusCode) && response.Headers.Location is { } location)
                {
                    var next = location.IsAbsoluteUri ? location : new Uri(uri, location);
                    if (next.Scheme != Uri.UriSchemeHttp && next.Scheme != Uri.UriSchemeHttps)
                    {
                        throw new FeedFetchException($"Feed '{feed.Id}': {uri} redirects to {next}, which is not http(s).");
                    }

                    if (visited.Contains(next))
                    {
                        throw new FeedFetchException($"Feed '{feed.Id}': redirect loop: {string.Join(" -> ", visited)} -> {next}.");
                    }

                    if (visited.Count > _options.MaxRedirects)
                    {
                        throw new FeedFetchException($"Feed '{feed.Id}': more than {_options.MaxRedirects} redirects: {string.Join(" -> ", visited)} -> {next}.");
                    }

                    permanentSoFar &= response.StatusCode is HttpStatusCode.MovedPermanently or HttpStatusCode.PermanentRedirect;
                    if (permanentSoFar)
                    {
                        movedTo = next;
                    }

                    visited.Add(next);
                    uri = next;
                    continue;
                }

                if (response.StatusCode == HttpStatusCode.NotModified)
                {
                    return new FetchResult(true, [], null, etag, lastModified, uri, movedTo);
                }

                if (!response.IsSuccessStatusCode)
                {
                    throw new FeedFetchException($"Feed '{feed.Id}': {uri} answered {(int)response.StatusCode} {response.ReasonPhrase}{RetryAfterText(response)}.")
                    {
                        StatusCode = (int)response.StatusCode,
                        RetryAfter = response.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable
                            ? ReadRetryAfter(response) : null,
                    };
                }

                var body = await ReadCappedAsync(response.Content, feed, timeout.Token);
                return new FetchResult(false, body, response.Content.Headers.ContentType?.CharSet,
                    response.Headers.ETag?.ToString(), response.Content.Headers.LastModified?.ToString("R", CultureInfo.InvariantCulture), uri, movedTo);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new FeedFetchException($"Feed '{feed.Id}': no complete answer from {uri} within {_options.TimeoutSeconds} s.");
        }
        catch (HttpRequestException ex) when (FindRefusal(ex) is { } refused)
        {
            throw new FeedFetchException(refused.Message, ex);
        }
        catch (HttpRequestException ex)
        {
            throw new FeedFetchException($"Feed '{feed.Id}': {uri} could not be reached: {ex.Message}", ex);
        }
        catch (IOException ex) when (ex is not FeedAddressRefusedException)
        {
            // A connection reset or a corrupt compressed stream while reading the body.
            throw new FeedFetchException($"Feed '{feed.Id}': reading {uri} failed: {ex.Message}", ex);
        }
    }

    private HttpRequestMessage CreateRequest(FeedDefinition feed, Uri uri, string? etag, string? lastModified)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, uri)
        {
            // HTTP/1.1 only: HTTP/3 (QUIC) would bypass the connect callback and with it the SSRF guard, and
            // Connection: close below is an HTTP/1.1 mechanism.
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Headers.UserAgent.ParseAdd(_options.UserAgent);
        request.Headers.Accept.ParseAdd("application/rss+xml, application/atom+xml, application/rdf+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5");
        request.Options.Set(SsrfGuard.FeedIdKey, feed.Id);
        request.Options.Set(SsrfGuard.AllowInternalKey, feed.Internal);
        if (feed.Internal)
        {
            // The connection pool is keyed by host and port, not by permission: a pooled connection to an internal
            // address must not be reused by a public feed (or a redirect from one) to the same host name.
            request.Headers.ConnectionClose = true;
        }

        if (etag is not null && EntityTagHeaderValue.TryParse(etag, out var tag))
        {
            request.Headers.IfNoneMatch.Add(tag);
        }

        if (lastModified is not null && DateTimeOffset.TryParse(lastModified, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var since))
        {
            request.Headers.IfModifiedSince = since;
        }

        return request;
    }

    private static RetryAfter? ReadRetryAfter(HttpResponseMessage response) => response.Headers.RetryAfter switch
    {
        { Delta: { } delta } => new RetryAfter(delta, null),
        { Date: { } date } => new RetryAfter(null, date),
        _ => null,
    };

    private static string RetryAfterText(HttpResponseMessage response) => response.Headers.RetryAfter is { } r
        ? $" (Retry-After: {r})"
        : "";

    private static FeedAddressRefusedException? FindRefusal(Exception ex)
    {
        for (var e = ex.InnerException; e is not null; e = e.InnerException)
        {
            if (e is FeedAddressRefusedException refused)
            {
                return refused;
            }
        }

        return null;
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
        var stamp = info.LastWriteTimeUtc.ToString("R", CultureInfo.InvariantCulture);
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
