using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using Microsoft.AspNetCore.WebUtilities;

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
/// Fetches feed documents: bundled files under the config folder, or http(s) with conditional GET, automatic
/// decompression under a size cap, a whole-request timeout, a redirect limit with loop detection and the SSRF guard.
/// Item pages (full text) go through <see cref="FetchPageAsync"/>, which is http(s) only.
/// </summary>
public sealed class FeedFetcher
{
    private readonly HttpClient _http;
    private readonly FetchOptions _options;
    private readonly string _configDirectory;

    /// <param name="http">A client over <see cref="CreateHandler"/> (decompression on, no automatic redirects, SSRF guard).</param>
    /// <param name="options">Limits.</param>
    /// <param name="configDirectory">The only folder local (bundled) feed files are read from; relative paths resolve against it.</param>
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
    /// the feed (null: the configured URL). A feed whose URL is not http(s) is a file under the config folder.
    /// </summary>
    public async Task<FetchResult> FetchAsync(FeedDefinition feed, string? currentUrl, string? etag, string? lastModified, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(feed);
        if (feed.IsLocalFile)
        {
            return await ReadLocalAsync(feed, cancellationToken);
        }

        var url = currentUrl ?? feed.Url;
        if (!TryHttpUri(url, out var uri))
        {
            throw new FeedFetchException($"Feed '{feed.Id}': url '{url}' is not an absolute http or https URL.");
        }

        // The feed's own permission on every hop: an internal feed may redirect within the private network.
        return await FetchHttpAsync(feed.Id, uri, _ => feed.Internal, null, FeedAccept, etag, lastModified, cancellationToken);
    }

    /// <summary>
    /// Fetches a web page an item of <paramref name="feed"/> links to (full text). Over http(s) only: this path never
    /// reads a file, whatever the link says. The feed's internal permission covers only its own host: a link, or a
    /// redirect, to any other host is fetched as public, so the SSRF guard refuses private and loopback addresses there.
    /// </summary>
    /// <exception cref="FeedFetchException">The link is not an absolute http(s) URL, or the fetch failed.</exception>
    public async Task<FetchResult> FetchPageAsync(FeedDefinition feed, Uri page, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(feed);
        ArgumentNullException.ThrowIfNull(page);
        if (!page.IsAbsoluteUri || (page.Scheme != Uri.UriSchemeHttp && page.Scheme != Uri.UriSchemeHttps))
        {
            throw new FeedFetchException($"Feed '{feed.Id}': an item link that is not an absolute http or https URL is never fetched.");
        }

        var ownHost = feed.Internal && !feed.IsLocalFile && TryHttpUri(feed.Url, out var feedUri) ? feedUri.IdnHost : null;
        var hint = ownHost is null
            ? null
            : $"an internal feed's item pages may reach private addresses only on the feed's own host ({ownHost})";
        return await FetchHttpAsync(feed.Id, page, hop => ownHost is not null && string.Equals(hop.IdnHost, ownHost, StringComparison.OrdinalIgnoreCase),
            hint, PageAccept, null, null, cancellationToken);
    }

    private const string FeedAccept = "application/rss+xml, application/atom+xml, application/rdf+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5";
    private const string PageAccept = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5";

    private static bool TryHttpUri(string url, [NotNullWhen(true)] out Uri? uri) =>
        Uri.TryCreate(url, UriKind.Absolute, out uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);

    // The HTTP path shared by feeds and pages. allowInternal decides, per hop, whether the SSRF guard lets that hop's
    // connection reach a private or loopback address. Error messages name the URL and what went wrong, never what the
    // server sent (bodies, status lines, reason phrases): an internal server's answer must not leak through them.
    private async Task<FetchResult> FetchHttpAsync(string feedId, Uri start, Func<Uri, bool> allowInternal, string? refusalHint, string accept,
        string? etag, string? lastModified, CancellationToken cancellationToken)
    {
        var uri = start;
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
                using var request = CreateRequest(feedId, uri, allowInternal(uri), refusalHint, accept, etag, lastModified);
                using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
                if (IsRedirect(response.StatusCode) && response.Headers.Location is { } location)
                {
                    var next = location.IsAbsoluteUri ? location : new Uri(uri, location);
                    if (next.Scheme != Uri.UriSchemeHttp && next.Scheme != Uri.UriSchemeHttps)
                    {
                        throw new FeedFetchException($"Feed '{feedId}': {uri} redirects to a URL that is not http(s); not followed.");
                    }

                    if (visited.Contains(next))
                    {
                        throw new FeedFetchException($"Feed '{feedId}': redirect loop: {string.Join(" -> ", visited)} -> {next}.");
                    }

                    if (visited.Count > _options.MaxRedirects)
                    {
                        throw new FeedFetchException($"Feed '{feedId}': more than {_options.MaxRedirects} redirects: {string.Join(" -> ", visited)} -> {next}.");
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
                    // The standard reason phrase, not the server's: a reason phrase is free text the server chose.
                    var code = (int)response.StatusCode;
                    var phrase = ReasonPhrases.GetReasonPhrase(code);
                    throw new FeedFetchException($"Feed '{feedId}': {uri} answered {code}{(phrase.Length > 0 ? " " + phrase : "")}{RetryAfterText(response)}.")
                    {
                        StatusCode = code,
                        RetryAfter = response.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable
                            ? ReadRetryAfter(response) : null,
                    };
                }

                var body = await ReadCappedAsync(response.Content, feedId, timeout.Token);
                return new FetchResult(false, body, response.Content.Headers.ContentType?.CharSet,
                    response.Headers.ETag?.ToString(), response.Content.Headers.LastModified?.ToString("R", CultureInfo.InvariantCulture), uri, movedTo);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new FeedFetchException($"Feed '{feedId}': no complete answer from {uri} within {_options.TimeoutSeconds} s.");
        }
        catch (HttpRequestException ex) when (FindRefusal(ex) is { } refused)
        {
            throw new FeedFetchException(refused.Message, ex);
        }
        catch (HttpRequestException ex)
        {
            throw new FeedFetchException($"Feed '{feedId}': {uri} could not be reached: {Describe(ex.HttpRequestError, ex)}.", ex);
        }
        catch (IOException ex) when (ex is not FeedAddressRefusedException)
        {
            // A connection reset or a corrupt compressed stream while reading the body.
            var error = ex is HttpIOException io ? io.HttpRequestError : HttpRequestError.Unknown;
            throw new FeedFetchException($"Feed '{feedId}': reading the answer from {uri} failed: {Describe(error, ex)}.", ex);
        }
        catch (InvalidDataException ex)
        {
            // A compressed body that does not decompress (gzip, deflate or brotli stream broken mid-way).
            throw new FeedFetchException($"Feed '{feedId}': the compressed answer from {uri} could not be decompressed.", ex);
        }
    }

    // What went wrong, in our words: HttpClient's own messages can quote the server (an invalid status line or
    // header line is echoed verbatim, e.g. an SSH or Redis banner on an internal port).
    private static string Describe(HttpRequestError error, Exception ex) => error switch
    {
        HttpRequestError.NameResolutionError => "the host name does not resolve",
        HttpRequestError.ConnectionError => FindInner<SocketException>(ex) is { } socket
            ? $"the connection failed ({socket.SocketErrorCode})"
            : "the connection failed",
        HttpRequestError.SecureConnectionError => "the TLS handshake failed (certificate or protocol mismatch)",
        HttpRequestError.InvalidResponse => "the answer is not a valid HTTP response",
        HttpRequestError.ResponseEnded => "the connection closed before the answer was complete",
        HttpRequestError.HttpProtocolError => "the server broke the HTTP protocol",
        HttpRequestError.ConfigurationLimitExceeded => "the answer's headers are over the client's limits",
        _ => FindInner<SocketException>(ex) is { } socket ? $"the connection failed ({socket.SocketErrorCode})" : "the transfer failed",
    };

    private static T? FindInner<T>(Exception ex) where T : Exception
    {
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            if (e is T match)
            {
                return match;
            }
        }

        return null;
    }

    private HttpRequestMessage CreateRequest(string feedId, Uri uri, bool allowInternal, string? refusalHint, string accept, string? etag, string? lastModified)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, uri)
        {
            // HTTP/1.1 only: HTTP/3 (QUIC) would bypass the connect callback and with it the SSRF guard, and
            // Connection: close below is an HTTP/1.1 mechanism.
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Headers.UserAgent.ParseAdd(_options.UserAgent);
        request.Headers.Accept.ParseAdd(accept);
        request.Options.Set(SsrfGuard.FeedIdKey, feedId);
        request.Options.Set(SsrfGuard.AllowInternalKey, allowInternal);
        if (refusalHint is not null)
        {
            request.Options.Set(SsrfGuard.RefusalHintKey, refusalHint);
        }

        if (allowInternal)
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
        // Local feeds are files under the config folder (the bundled samples), nowhere else: the path is normalized
        // ("..", ".", repeated separators; Path.GetFullPath, which does not follow symbolic links) and must stay inside.
        var root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(_configDirectory));
        var path = Path.GetFullPath(Path.Combine(root, feed.Url));
        var inside = Path.EndsInDirectorySeparator(root) ? root : root + Path.DirectorySeparatorChar;
        var comparison = OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        if (!path.StartsWith(inside, comparison) && !string.Equals(path, root, comparison))
        {
            throw new FeedFetchException(
                $"Feed '{feed.Id}': file '{feed.Url}' resolves to '{path}', outside the config folder '{root}'; a local feed must be a file under the config folder.");
        }

        if (Directory.Exists(path))
        {
            throw new FeedFetchException($"Feed '{feed.Id}': '{path}' is a folder, not a feed file.");
        }

        if (!File.Exists(path))
        {
            throw new FeedFetchException($"Feed '{feed.Id}': file '{path}' does not exist.");
        }

        var body = await ReadFileCappedAsync(path, _options.MaxBodyBytes, $"Feed '{feed.Id}': file '{path}'", cancellationToken);
        var stamp = File.GetLastWriteTimeUtc(path).ToString("R", CultureInfo.InvariantCulture);
        return new FetchResult(false, body, null, null, stamp, new Uri(path));
    }

    /// <summary>
    /// Reads a file, never more than <paramref name="maxBytes"/>: the cap is enforced while reading, because a
    /// device or special file (/dev/zero, /dev/urandom) reports a length of 0 and never ends.
    /// </summary>
    /// <param name="path">The file.</param>
    /// <param name="maxBytes">The cap (<see cref="FetchOptions.MaxBodyBytes"/>).</param>
    /// <param name="subject">How messages name the file, e.g. <c>Feed 'x': file '/path'</c>.</param>
    /// <param name="cancellationToken">Stops the read.</param>
    /// <exception cref="FeedFetchException">The file is larger than the cap (nothing past the cap is read).</exception>
    public static async Task<byte[]> ReadFileCappedAsync(string path, long maxBytes, string subject, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(path);
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.Asynchronous | FileOptions.SequentialScan);

        // The length of what was opened (through any symbolic link); a device or pipe has none.
        var declared = stream.CanSeek ? stream.Length : 0;
        if (declared > maxBytes)
        {
            throw new FeedFetchException($"{subject} is {declared} bytes, over the {maxBytes}-byte limit.");
        }

        using var buffer = new MemoryStream(declared > 0 ? (int)declared : 0);
        var chunk = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > maxBytes)
            {
                throw new FeedFetchException(declared == 0
                    ? $"{subject} reports no length but gives more than {maxBytes} bytes (a device or special file?); reading stopped at the {maxBytes}-byte limit."
                    : $"{subject} grew past the {maxBytes}-byte limit while being read; reading stopped there.");
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    private async Task<byte[]> ReadCappedAsync(HttpContent content, string feedId, CancellationToken cancellationToken)
    {
        if (content.Headers.ContentLength is { } declared && declared > _options.MaxBodyBytes)
        {
            throw new FeedFetchException($"Feed '{feedId}': body of {declared} bytes is over the {_options.MaxBodyBytes}-byte limit.");
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
                throw new FeedFetchException($"Feed '{feedId}': decompressed body exceeds the {_options.MaxBodyBytes}-byte limit.");
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    private static bool IsRedirect(HttpStatusCode code) => code is HttpStatusCode.MovedPermanently or HttpStatusCode.Found
        or HttpStatusCode.SeeOther or HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect;
}
