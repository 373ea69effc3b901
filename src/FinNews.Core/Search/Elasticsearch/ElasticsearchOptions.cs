using System.Globalization;

namespace FinNews.Core.Search.Elasticsearch;

/// <summary>Connection, layout and retry settings of <see cref="ElasticsearchSearchIndex"/> (section "Elasticsearch").</summary>
/// <remarks>
/// Secrets (<see cref="ApiKey"/>, <see cref="Password"/>) come from environment variables through configuration; they
/// are sent in the <c>Authorization</c> header only and never appear in logs or exception messages.
/// </remarks>
public sealed class ElasticsearchOptions
{
    /// <summary>
    /// Node URL, e.g. <c>https://es.internal:9200</c>, or several separated by commas (the client then spreads requests
    /// over them and fails over). Credentials must not be embedded in it.
    /// </summary>
    public string Url { get; set; } = "http://127.0.0.1:9200";

    /// <summary>Prefix of the index template and of the monthly indices <c>{prefix}-yyyy.MM</c>.</summary>
    public string IndexPrefix { get; set; } = "finnews-chunks";

    /// <summary>The alias that spans every monthly index and is used for search; defaults to <see cref="IndexPrefix"/>.</summary>
    public string? Alias { get; set; }

    /// <summary>An Elasticsearch API key (the base64 <c>encoded</c> form), sent as <c>Authorization: ApiKey …</c>.</summary>
    public string? ApiKey { get; set; }

    /// <summary>User for HTTP Basic authentication (ignored when <see cref="ApiKey"/> is set).</summary>
    public string? Username { get; set; }

    /// <summary>Password for HTTP Basic authentication.</summary>
    public string? Password { get; set; }

    /// <summary>
    /// SHA-256 fingerprint (hex, colons optional) of the server certificate or of its CA, as printed by Elasticsearch on
    /// first start. When set, the connection is accepted only if a certificate in the presented chain matches it,
    /// which is how self-signed clusters are trusted without installing their CA.
    /// </summary>
    public string? CertificateFingerprint { get; set; }

    /// <summary>Primary shards per monthly index (not sent to Serverless, which manages shards itself).</summary>
    public int NumberOfShards { get; set; } = 1;

    /// <summary>Replicas per primary shard (not sent to Serverless).</summary>
    public int NumberOfReplicas { get; set; } = 1;

    /// <summary>
    /// <c>dense_vector</c> <c>index_options.type</c>: <c>int8_hnsw</c> (default: scalar-quantized, a quarter of the float
    /// memory), <c>bbq_hnsw</c> (better binary quantization, about 1/32 of the memory, rescored with oversampling; needs at
    /// least 64 dimensions), or <c>hnsw</c>, <c>int4_hnsw</c>, <c>flat</c>, <c>int8_flat</c>, <c>int4_flat</c>, <c>bbq_flat</c>.
    /// </summary>
    public string VectorIndexType { get; set; } = "int8_hnsw";

    /// <summary>
    /// Server-side hybrid fusion where the licence allows it (Enterprise or trial; always on Serverless): <c>none</c>
    /// (default: the lexical and kNN searches run together in one <c>_msearch</c> and are fused in the client by the same
    /// code and weights as the embedded index), <c>rrf</c> (the <c>rrf</c> retriever), <c>linear</c> (the <c>linear</c>
    /// retriever with min-max normalization, the server-side form of the convex mix), or <c>auto</c> (<c>rrf</c> when
    /// Search:Fusion is rrf, <c>linear</c> when it is convex). On a basic licence every value fuses client-side.
    /// </summary>
    public string HybridRetriever { get; set; } = "none";

    /// <summary>HNSW <c>m</c> (neighbours per node); null leaves the server default (16). Only for *hnsw types.</summary>
    public int? HnswM { get; set; }

    /// <summary>HNSW <c>ef_construction</c>; null leaves the server default (100). Only for *hnsw types.</summary>
    public int? HnswEfConstruction { get; set; }

    /// <summary>Chunks per <c>_bulk</c> request.</summary>
    public int BulkBatchSize { get; set; } = 500;

    /// <summary>
    /// Retries of bulk items answered 429 (and of a whole bulk request answered 429). Node failover, connection retries
    /// and compression are the client's (Elastic.Transport); only the per-item 429 policy is FinNews's own.
    /// </summary>
    public int MaxRetries { get; set; } = 5;

    /// <summary>First backoff delay before retrying 429 items, in milliseconds; doubled per attempt, with jitter.</summary>
    public int RetryBaseDelayMilliseconds { get; set; } = 250;

    /// <summary>Upper bound of one backoff delay, in seconds.</summary>
    public int RetryMaxDelaySeconds { get; set; } = 30;

    /// <summary>Timeout of one HTTP request, in seconds (the client's RequestTimeout).</summary>
    public int RequestTimeoutSeconds { get; set; } = 30;

    /// <summary>Node URLs (without credentials) and the alias, for messages and the reindex checkpoint.</summary>
    public string DisplayTarget =>
        $"{string.Join(',', NodeUris().Select(u => u.GetLeftPart(UriPartial.Path).TrimEnd('/')))} alias {EffectiveAlias}";

    /// <summary>The alias searched, <see cref="Alias"/> or else <see cref="IndexPrefix"/>.</summary>
    public string EffectiveAlias => string.IsNullOrWhiteSpace(Alias) ? IndexPrefix : Alias;

    /// <summary>The index types the serverless specification lists (bbq_disk needs a licence and is left out).</summary>
    internal static readonly string[] IndexTypes = ["int8_hnsw", "bbq_hnsw", "hnsw", "int4_hnsw", "flat", "int8_flat", "int4_flat", "bbq_flat"];

    internal static readonly string[] HybridRetrievers = ["none", "rrf", "linear", "auto"];

    /// <summary>The node URLs in <see cref="Url"/>.</summary>
    public IReadOnlyList<Uri> NodeUris() =>
        Url.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(u => new Uri(u)).ToList();

    /// <summary>Every problem with these settings, each naming the key and the bad value; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        var urls = (Url ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (urls.Length == 0)
        {
            errors.Add("Elasticsearch:Url must be an absolute http(s) URL, got ''");
        }

        foreach (var text in urls)
        {
            if (!Uri.TryCreate(text, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
            {
                // A URL that does not parse may still carry a password, so echo it only without one.
                errors.Add(text.Contains('@', StringComparison.Ordinal)
                    ? "Elasticsearch:Url must be an absolute http(s) URL"
                    : $"Elasticsearch:Url must be an absolute http(s) URL, got '{text}'");
            }
            else if (url.UserInfo.Length > 0)
            {
                // Printing the value back would leak the password it contains.
                errors.Add("Elasticsearch:Url must not contain credentials; set FINNEWS_ELASTICSEARCH_USERNAME/_PASSWORD or _API_KEY in the environment");
            }
        }

        if (!IsValidIndexName(IndexPrefix))
        {
            errors.Add($"Elasticsearch:IndexPrefix must be a lower-case index name without spaces or \\/*?\"<>|,#:, got '{IndexPrefix}'");
        }

        if (!string.IsNullOrWhiteSpace(Alias) && !IsValidIndexName(Alias))
        {
            errors.Add($"Elasticsearch:Alias must be a lower-case index name, got '{Alias}'");
        }

        if (!string.IsNullOrEmpty(ApiKey) && !string.IsNullOrEmpty(Username))
        {
            errors.Add("Elasticsearch:ApiKey and Elasticsearch:Username are both set; use one authentication method");
        }

        if (!string.IsNullOrEmpty(Username) && string.IsNullOrEmpty(Password))
        {
            errors.Add($"Elasticsearch:Password is required when Elasticsearch:Username is set (user '{Username}')");
        }

        if (CertificateFingerprint is { Length: > 0 } fingerprint && NormalizeFingerprint(fingerprint) is null)
        {
            errors.Add($"Elasticsearch:CertificateFingerprint must be 64 hex digits (SHA-256), got '{fingerprint}'");
        }

        if (!IndexTypes.Contains(VectorIndexType, StringComparer.Ordinal))
        {
            errors.Add($"Elasticsearch:VectorIndexType must be one of {string.Join(", ", IndexTypes)}, got '{VectorIndexType}'");
        }

        if (!HybridRetrievers.Contains(HybridRetriever, StringComparer.Ordinal))
        {
            errors.Add($"Elasticsearch:HybridRetriever must be one of {string.Join(", ", HybridRetrievers)}, got '{HybridRetriever}'");
        }

        if ((HnswM is not null || HnswEfConstruction is not null) && !VectorIndexType.EndsWith("hnsw", StringComparison.Ordinal))
        {
            errors.Add($"Elasticsearch:HnswM and HnswEfConstruction apply only to *hnsw index types, not '{VectorIndexType}'");
        }

        Positive(errors, "HnswM", HnswM ?? 1);
        Positive(errors, "HnswEfConstruction", HnswEfConstruction ?? 1);
        Positive(errors, "NumberOfShards", NumberOfShards);
        NonNegative(errors, "NumberOfReplicas", NumberOfReplicas);
        Positive(errors, "BulkBatchSize", BulkBatchSize);
        NonNegative(errors, "MaxRetries", MaxRetries);
        Positive(errors, "RetryBaseDelayMilliseconds", RetryBaseDelayMilliseconds);
        Positive(errors, "RetryMaxDelaySeconds", RetryMaxDelaySeconds);
        Positive(errors, "RequestTimeoutSeconds", RequestTimeoutSeconds);
        return errors;
    }

    /// <summary>Upper-case hex without separators, or null when it is not a SHA-256 fingerprint.</summary>
    internal static string? NormalizeFingerprint(string fingerprint)
    {
        var hex = fingerprint.Replace(":", string.Empty, StringComparison.Ordinal).Replace(" ", string.Empty, StringComparison.Ordinal);
        return hex.Length == 64 && hex.All(char.IsAsciiHexDigit) ? hex.ToUpperInvariant() : null;
    }

    private static bool IsValidIndexName(string? name) =>
        !string.IsNullOrWhiteSpace(name)
        && !name.Any(char.IsUpper)
        && name[0] is not ('-' or '_' or '+')
        && name.Length <= 200
        && name.IndexOfAny(['\\', '/', '*', '?', '"', '<', '>', '|', ' ', ',', '#', ':']) < 0;

    private static void Positive(List<string> errors, string key, int value)
    {
        if (value <= 0)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"Elasticsearch:{key} must be positive, got {value}"));
        }
    }

    private static void NonNegative(List<string> errors, string key, int value)
    {
        if (value < 0)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"Elasticsearch:{key} must not be negative, got {value}"));
        }
    }
}
