using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Logging;

namespace FinNews.Core.Search.Elasticsearch;

/// <summary>A response that was received (any status).</summary>
internal sealed record EsResponse(HttpStatusCode Status, byte[] Body)
{
    public bool IsSuccess => (int)Status is >= 200 and < 300;
}

/// <summary>
/// HTTP to one cluster: authentication, certificate pinning, timeouts, 429 handling with <c>Retry-After</c>, and error
/// messages that name the operation and the server's reason but never a credential.
/// </summary>
internal sealed class ElasticsearchTransport : IDisposable
{
    private readonly HttpClient _http;
    private readonly ElasticsearchOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly string _displayUrl;

    public ElasticsearchTransport(ElasticsearchOptions options, ILogger logger, TimeProvider time)
    {
        _options = options;
        _logger = logger;
        _time = time;
        var baseUri = new Uri(options.Url.EndsWith('/') ? options.Url : options.Url + "/");
        _displayUrl = baseUri.GetLeftPart(UriPartial.Path).TrimEnd('/');

        var handler = new SocketsHttpHandler
        {
            AutomaticDecompression = DecompressionMethods.GZip | DecompressionMethods.Deflate,
            // Cluster nodes come and go behind a load balancer; recycle connections so DNS changes are seen.
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        };
        if (options.CertificateFingerprint is { Length: > 0 } configured)
        {
            var fingerprint = ElasticsearchOptions.NormalizeFingerprint(configured)
                ?? throw new ArgumentException("Elasticsearch:CertificateFingerprint must be 64 hex digits (SHA-256)", nameof(options));
            handler.SslOptions.RemoteCertificateValidationCallback =
                (_, certificate, chain, errors) => IsTrusted(certificate, chain, errors, fingerprint);
        }

        _http = new HttpClient(handler, disposeHandler: true)
        {
            BaseAddress = baseUri,
            Timeout = TimeSpan.FromSeconds(options.RequestTimeoutSeconds),
        };
        _http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (!string.IsNullOrEmpty(options.ApiKey))
        {
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("ApiKey", options.ApiKey);
        }
        else if (!string.IsNullOrEmpty(options.Username))
        {
            var pair = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{options.Username}:{options.Password}"));
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", pair);
        }
    }

    /// <summary>The cluster URL without path or credentials, for messages.</summary>
    public string DisplayUrl => _displayUrl;

    /// <summary>
    /// Pinning: with a fingerprint configured, the connection is trusted when the server certificate or any certificate
    /// of its chain (typically the cluster's own CA) has that SHA-256, whatever the system trust store says; otherwise
    /// the normal validation result stands.
    /// </summary>
    internal static bool IsTrusted(X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors, string? fingerprint)
    {
        if (fingerprint is null)
        {
            return errors == SslPolicyErrors.None;
        }

        if (certificate is null)
        {
            return false;
        }

        if (Matches(certificate, fingerprint))
        {
            return true;
        }

        if (chain is not null)
        {
            foreach (var element in chain.ChainElements)
            {
                if (Matches(element.Certificate, fingerprint))
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static bool Matches(X509Certificate certificate, string fingerprint)
    {
        var hash = Convert.ToHexString(certificate.GetCertHash(HashAlgorithmName.SHA256));
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(hash), Encoding.ASCII.GetBytes(fingerprint));
    }

    /// <summary>Sends a request, retrying it while the server answers 429; returns whatever status comes last.</summary>
    public async Task<EsResponse> SendAsync(
        string operation, HttpMethod method, string path, byte[]? body, string contentType, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var request = new HttpRequestMessage(method, path);
            if (body is not null)
            {
                request.Content = new ByteArrayContent(body);
                request.Content.Headers.ContentType = new MediaTypeHeaderValue(contentType) { CharSet = "utf-8" };
            }

            var started = _time.GetTimestamp();
            HttpResponseMessage response;
            try
            {
                response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
            }
            catch (HttpRequestException e)
            {
                throw new ElasticsearchException(
                    $"Elasticsearch {operation} ({method} /{path}) at {_displayUrl} failed: {e.Message}", null, null, e);
            }
            catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
            {
                throw new ElasticsearchException(
                    $"Elasticsearch {operation} ({method} /{path}) at {_displayUrl} timed out after {_options.RequestTimeoutSeconds} s", null, null, e);
            }

            using (response)
            {
                var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken);
                var status = response.StatusCode;
                _logger.LogDebug("Elasticsearch {Operation} {Method} /{Path} -> {Status} in {ElapsedMs} ms",
                    operation, method, path, (int)status, _time.GetElapsedTime(started).TotalMilliseconds);
                if (status != HttpStatusCode.TooManyRequests || attempt >= _options.MaxRetries)
                {
                    return new EsResponse(status, bytes);
                }

                var delay = RetryAfter(response) ?? Backoff(attempt);
                _logger.LogWarning("Elasticsearch {Operation} was rejected with 429; retry {Attempt} of {MaxRetries} in {DelayMs} ms",
                    operation, attempt + 1, _options.MaxRetries, delay.TotalMilliseconds);
                await DelayAsync(delay, cancellationToken);
            }
        }
    }

    /// <summary>Sends a JSON request and parses a successful response, or throws with the server's reason.</summary>
    public async Task<T> SendAsync<T>(
        string operation, HttpMethod method, string path, byte[]? body, JsonTypeInfo<T> responseType, CancellationToken cancellationToken)
    {
        var response = await SendAsync(operation, method, path, body, "application/json", cancellationToken);
        if (!response.IsSuccess)
        {
            throw Failure(operation, method, path, response);
        }

        return Parse(operation, response.Body, responseType);
    }

    /// <summary>Waits on the injected clock (so tests can observe and skip the wait).</summary>
    public Task DelayAsync(TimeSpan delay, CancellationToken cancellationToken) => Task.Delay(delay, _time, cancellationToken);

    /// <summary>Exponential backoff with "equal jitter": half the capped delay is fixed, half random, so a fleet of
    /// clients rejected together does not come back together.</summary>
    public TimeSpan Backoff(int attempt)
    {
        var max = TimeSpan.FromSeconds(_options.RetryMaxDelaySeconds);
        var exponential = TimeSpan.FromMilliseconds(_options.RetryBaseDelayMilliseconds * Math.Pow(2, Math.Min(attempt, 30)));
        var capped = exponential < max ? exponential : max;
#pragma warning disable CA5394 // jitter needs no cryptographic randomness
        var jitter = Random.Shared.NextDouble();
#pragma warning restore CA5394
        return capped / 2 + capped / 2 * jitter;
    }

    private TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var header = response.Headers.RetryAfter;
        TimeSpan? wait = header?.Delta ?? (header?.Date is { } date ? date - _time.GetUtcNow() : null);
        if (wait is not { } value)
        {
            return null;
        }

        var max = TimeSpan.FromSeconds(_options.RetryMaxDelaySeconds);
        return value < TimeSpan.Zero ? TimeSpan.Zero : value > max ? max : value;
    }

    /// <summary>An exception for a non-success response, with the server's error type and reason.</summary>
    public ElasticsearchException Failure(string operation, HttpMethod method, string path, EsResponse response)
    {
        var (type, reason) = DescribeError(response.Body);
        var status = (int)response.Status;
        var detail = type is null ? reason : $"{type}: {reason}";
        return new ElasticsearchException(
            string.Create(CultureInfo.InvariantCulture,
                $"Elasticsearch {operation} ({method} /{path}) at {_displayUrl} failed with {status}: {detail}"),
            status, type);
    }

    /// <summary>The error type and a readable reason from an error body; tolerant of non-JSON bodies (proxies).</summary>
    internal static (string? Type, string Reason) DescribeError(byte[] body)
    {
        try
        {
            var error = JsonSerializer.Deserialize(body, ElasticsearchJsonContext.Default.ErrorResponse);
            if (error?.Error.ValueKind == JsonValueKind.Object)
            {
                var cause = error.Error.Deserialize(ElasticsearchJsonContext.Default.ErrorCause);
                if (cause is not null)
                {
                    var root = cause.RootCause is { Count: > 0 } roots && roots[0].Reason != cause.Reason ? $" (root cause {roots[0].Describe()})" : string.Empty;
                    return (cause.Type, cause.CausedBy is null ? $"{cause.Reason}{root}" : $"{cause.Reason} (caused by {cause.CausedBy.Describe()}){root}");
                }
            }
            else if (error?.Error.ValueKind == JsonValueKind.String)
            {
                return (null, error.Error.GetString() ?? string.Empty);
            }
        }
        catch (JsonException)
        {
            // Not an Elasticsearch error body (a proxy page, say): fall through to the raw text.
        }

        var text = Encoding.UTF8.GetString(body);
        return (null, text.Length > 300 ? text[..300] + "…" : text);
    }

    /// <summary>Parses a response body, turning malformed JSON into an error that names the operation.</summary>
    public static T Parse<T>(string operation, byte[] body, JsonTypeInfo<T> type)
    {
        try
        {
            return JsonSerializer.Deserialize(body, type)
                ?? throw new ElasticsearchException($"Elasticsearch {operation} returned an empty body");
        }
        catch (JsonException e)
        {
            throw new ElasticsearchException($"Elasticsearch {operation} returned a body that is not the expected JSON: {e.Message}", e);
        }
    }

    public void Dispose() => _http.Dispose();
}

/// <summary>Small helpers for request paths.</summary>
internal static class EsPath
{
    public static string Escape(string segment) => Uri.EscapeDataString(segment);
}
