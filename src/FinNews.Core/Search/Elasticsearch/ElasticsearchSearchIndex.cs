using System.Globalization;
using System.Text.Json;
using Elastic.Clients.Elasticsearch;
using Elastic.Clients.Elasticsearch.Core.Bulk;
using Elastic.Clients.Elasticsearch.Core.Search;
using Elastic.Clients.Elasticsearch.IndexManagement;
using Elastic.Clients.Elasticsearch.Mapping;
using Elastic.Clients.Elasticsearch.QueryDsl;
using Elastic.Transport;
using Elastic.Transport.Products.Elasticsearch;
using FinNews.Core.Feeds;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FinNews.Core.Search.Elasticsearch;

/// <summary>
/// The search index in Elasticsearch 9.x or Serverless, through the official client (Elastic.Clients.Elasticsearch):
/// chunks in monthly indices <c>{prefix}-yyyy.MM</c> (by publication month, so retention drops whole months) behind one
/// alias, BM25 on english-analyzed text, kNN on a quantized HNSW <c>dense_vector</c>. Hybrid search is licence-aware:
/// on a basic licence the lexical and kNN searches run in one <c>_msearch</c> and are fused client-side by
/// <see cref="HybridRanking.Fuse"/> with the embedded index's weights; where the licence allows it the server-side
/// <c>rrf</c> or <c>linear</c> retriever can be configured instead (<see cref="ElasticsearchOptions.HybridRetriever"/>).
/// </summary>
/// <remarks>
/// Node pools, connection retries, request compression and the product check are the client's. Bulk writes are checked
/// per item: items rejected with 429 are retried alone with backoff (from the injected clock); 400/409 items are
/// reported and logged, not retried (they would fail again). <see cref="IndexAsync"/> throws, leaving the batch
/// unindexed for the next drain, when an item failed transiently (429 after every retry, 5xx) or when every item
/// failed (a systemic problem such as a mapping conflict); a few permanently bad chunks do not block the queue forever.
/// </remarks>
public sealed class ElasticsearchSearchIndex : ISearchIndex, IDisposable
{
    private const int MaxLoggedItemFailures = 10;

    private readonly ElasticsearchOptions _options;
    private readonly IEmbeddingGenerator<string, Embedding<float>> _embedder;
    private readonly string _embedderName;
    private readonly FusionSettings _fusion;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly ElasticsearchClient _client;
    private readonly string _displayUrl;
    private readonly SemaphoreSlim _initGate = new(1, 1);
    private readonly HashSet<string> _knownIndices = new(StringComparer.Ordinal);
    private readonly Lock _knownIndicesLock = new();

    private int _dimensions;
    private volatile bool _initialized;

    /// <summary>Creates the index client; nothing is sent until the first call.</summary>
    /// <param name="options">Connection and layout; validated here, every problem named.</param>
    /// <param name="embedder">Embeds chunks and queries; vectors are L2-normalized on the way in.</param>
    /// <param name="embedderName">The configured embedder name, recorded in each index's <c>_meta</c>.</param>
    /// <param name="fusion">Hybrid fusion, the same settings the embedded index uses (Search:Fusion, VectorWeight, RrfK).</param>
    /// <param name="logger">Receives the chosen path, retries and item failures; never a credential.</param>
    /// <param name="timeProvider">The clock for backoff delays between 429 retries.</param>
    public ElasticsearchSearchIndex(
        ElasticsearchOptions options,
        IEmbeddingGenerator<string, Embedding<float>> embedder,
        string embedderName,
        FusionSettings fusion,
        ILogger<ElasticsearchSearchIndex>? logger,
        TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(embedder);
        ArgumentException.ThrowIfNullOrWhiteSpace(embedderName);
        ArgumentNullException.ThrowIfNull(fusion);
        ArgumentNullException.ThrowIfNull(timeProvider);
        var errors = options.Validate().Concat(fusion.Problems("Search")).ToList();
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join("; ", errors), nameof(options));
        }

        _options = options;
        _embedder = embedder;
        _embedderName = embedderName;
        _fusion = fusion;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _time = timeProvider;
        var nodes = options.NodeUris();
        _displayUrl = string.Join(',', nodes.Select(u => u.GetLeftPart(UriPartial.Path).TrimEnd('/')));
        _client = new ElasticsearchClient(Settings(options, nodes));
    }

    /// <summary>What <see cref="InitializeAsync"/> read from the cluster (version, Serverless, licence).</summary>
    public ClusterFacts? Cluster { get; private set; }

    /// <summary>Where hybrid searches are fused, decided at start from the configuration and the licence.</summary>
    public HybridPath HybridPath { get; private set; } = HybridPath.ClientFusion;

    /// <summary>Why a configured server-side retriever is not used (null when it is, or none is configured).</summary>
    public string? HybridPathReason { get; private set; }

    /// <summary>The official client this index talks through (for tests and diagnostics).</summary>
    internal ElasticsearchClient Client => _client;

    /// <inheritdoc/>
    public async Task InitializeAsync(CancellationToken cancellationToken = default)
    {
        if (_initialized)
        {
            return;
        }

        await _initGate.WaitAsync(cancellationToken);
        try
        {
            if (_initialized)
            {
                return;
            }

            var dimensions = await ResolveDimensionsAsync(cancellationToken);
            await ConnectAsync(cancellationToken);
            var problems = new List<string>();
            foreach (var (index, mappings) in await ExistingIndicesAsync(cancellationToken))
            {
                problems.AddRange(CompareMappings($"index '{index}'", mappings, dimensions, _embedderName));
                RememberIndex(index);
            }

            if (problems.Count > 0)
            {
                throw new InvalidOperationException(
                    $"Elasticsearch at {_displayUrl} holds a search index built differently from this configuration " +
                    $"(embedder '{_embedderName}', {dimensions} dims): {string.Join("; ", problems)}. " +
                    "Run `finnews reindex` to rebuild it (it deletes the chunk indices and indexes every article again).");
            }

            await PutTemplateAsync(dimensions, cancellationToken);
            _initialized = true;
        }
        finally
        {
            _initGate.Release();
        }
    }

    /// <inheritdoc/>
    /// <exception cref="ElasticsearchBulkException">Chunks failed transiently, or every chunk failed.</exception>
    public async Task IndexAsync(IReadOnlyList<Article> articles, CancellationToken cancellationToken = default)
    {
        var report = await IndexWithReportAsync(articles, cancellationToken);
        var transient = report.Failures.Count(f => f.IsTransient);
        if (transient > 0)
        {
            throw new ElasticsearchBulkException(
                $"Elasticsearch bulk left {transient} of {report.Chunks} chunks unwritten after {_options.MaxRetries} retries " +
                $"(first: {Describe(report.Failures.First(f => f.IsTransient))}); the articles stay unindexed and will be retried",
                report);
        }

        if (report.Chunks > 0 && report.Indexed == 0)
        {
            throw new ElasticsearchBulkException(
                $"Elasticsearch rejected every one of {report.Chunks} chunks (first: {Describe(report.Failures[0])})", report);
        }
    }

    /// <summary>
    /// Like <see cref="IndexAsync"/> but never throws for item failures: returns what was written and every chunk that
    /// was not, with its status and reason. After the bulk, chunks the articles no longer have (a shorter edit, or a
    /// changed publication month) are deleted, so a re-indexed article leaves no stale tail.
    /// </summary>
    public async Task<BulkIndexReport> IndexWithReportAsync(IReadOnlyList<Article> articles, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(articles);
        await InitializeAsync(cancellationToken);
        if (articles.Count == 0)
        {
            return new BulkIndexReport(0, 0, 0, 0, []);
        }

        // Embedding may be a remote call: do it before touching the cluster.
        var chunked = articles.Select(a => (Article: a, Chunks: Chunker.Chunk(a))).ToList();
        var texts = chunked.SelectMany(c => c.Chunks).Select(c => c.Text).ToList();
        var embeddings = await _embedder.GenerateAsync(texts, cancellationToken: cancellationToken);
        if (embeddings.Count != texts.Count)
        {
            throw new InvalidOperationException($"embedder '{_embedderName}' returned {embeddings.Count} vectors for {texts.Count} chunks");
        }

        var items = new List<BulkItem>(texts.Count);
        var e = 0;
        foreach (var (article, chunks) in chunked)
        {
            var index = ElasticsearchQueries.MonthlyIndex(_options.IndexPrefix, article.PublishedAt);
            var tickers = IndexVectors.NormalizeTickers(article.Tickers);
            foreach (var chunk in chunks)
            {
                var vector = Normalized(embeddings[e++].Vector);
                items.Add(new BulkItem(index, new ChunkDocument(
                    chunk.Id, article.Id, chunk.N, article.FeedId, tickers, ElasticsearchQueries.Date(article.PublishedAt),
                    article.Title, chunk.Text,
                    // Cosine is undefined for a zero vector and Elasticsearch rejects the document; such a chunk (no
                    // embeddable text) is still findable lexically, so it is written without a vector.
                    vector.AsSpan().ContainsAnyExcept(0f) ? vector : null)));
            }
        }

        foreach (var index in items.Select(i => i.Index).Distinct(StringComparer.Ordinal))
        {
            await EnsureIndexAsync(index, cancellationToken);
        }

        var failures = new List<BulkItemFailure>();
        var indexed = 0;
        var retried = 0;
        foreach (var batch in items.Chunk(_options.BulkBatchSize))
        {
            var (ok, retries, failed) = await BulkAsync(batch, cancellationToken);
            indexed += ok;
            retried += retries;
            failures.AddRange(failed);
        }

        await DeleteStaleChunksAsync(chunked, cancellationToken);

        foreach (var failure in failures.Take(MaxLoggedItemFailures))
        {
            _logger.LogError("Elasticsearch bulk item {ChunkId} in {Index} failed with {Status} {ErrorType}: {Reason}",
                failure.ChunkId, failure.Index, failure.Status, failure.ErrorType, failure.Reason);
        }

        if (failures.Count > MaxLoggedItemFailures)
        {
            _logger.LogError("Elasticsearch bulk: {More} more item failures not logged ({Total} in all)",
                failures.Count - MaxLoggedItemFailures, failures.Count);
        }

        return new BulkIndexReport(articles.Count, items.Count, indexed, retried, failures);
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<SearchHit>> SearchAsync(SearchQuery query, CancellationToken cancellationToken = default) =>
        (await ExplainAsync(query, cancellationToken)).Hits;

    /// <inheritdoc/>
    public async Task<ExplainedSearch> ExplainAsync(SearchQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfNegative(query.Limit);
        await InitializeAsync(cancellationToken);
        if (query.Limit == 0 || string.IsNullOrWhiteSpace(query.Text))
        {
            return new ExplainedSearch([], Explain("nothing to search for", null));
        }

        var tickers = query.Tickers is { Count: > 0 } ? IndexVectors.NormalizeTickers(query.Tickers) : null;
        var filters = ElasticsearchQueries.Filters(query, tickers);
        var alias = _options.EffectiveAlias;
        var depth = HybridRanking.CandidateDepth(query.Limit);
        var texts = new Dictionary<string, string>(StringComparer.Ordinal);
        List<RankedChunk> ranked;
        SearchExplanation explanation;
        switch (query.Mode)
        {
            case SearchMode.Lexical:
                ranked = await SearchAsync("lexical search", ElasticsearchQueries.Lexical(alias, query.Text, filters, depth), false, texts, cancellationToken);
                explanation = Explain($"_search: multi_match BM25 ({ranked.Count} candidates)", null);
                break;
            case SearchMode.Vector:
                var vector = await EmbedQueryAsync(query.Text, cancellationToken);
                ranked = vector is null
                    ? []
                    : await SearchAsync("knn search", ElasticsearchQueries.Vector(alias, vector, filters, depth, floor: 0), true, texts, cancellationToken);
                explanation = Explain(vector is null ? "nothing embeddable in the query" : $"_search: knn ({ranked.Count} candidates)", null);
                break;
            case SearchMode.Hybrid:
                (ranked, explanation) = await HybridAsync(query.Text, filters, depth, texts, cancellationToken);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(query), query.Mode, "unknown search mode");
        }

        // Lists are best first, so the first chunk seen of an article is its best one.
        var hits = HybridRanking.BestPerArticle(ranked, query.Limit)
            .Select(h => new SearchHit(h.ArticleId, h.ChunkId, h.Score, texts.GetValueOrDefault(h.ChunkId) ?? string.Empty))
            .ToList();
        return new ExplainedSearch(hits, explanation);
    }

    /// <inheritdoc/>
    public async Task DeleteAsync(IReadOnlyCollection<string> articleIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(articleIds);
        await InitializeAsync(cancellationToken);
        foreach (var batch in articleIds.Chunk(1000))
        {
            await DeleteByQueryAsync("delete chunks", ElasticsearchQueries.StaleChunks(batch, []), cancellationToken);
        }
    }

    /// <inheritdoc/>
    /// <remarks>Deletes every monthly index whose whole month lies before the cutoff, by name: retention without per-document deletes.</remarks>
    public async Task<int> DropBeforeAsync(DateTimeOffset cutoff, CancellationToken cancellationToken = default)
    {
        await InitializeAsync(cancellationToken);
        var doomed = (await ExistingIndicesAsync(cancellationToken))
            .Select(i => i.Index)
            .Where(i => ElasticsearchQueries.MonthEnd(_options.IndexPrefix, i) is { } end && end <= cutoff)
            .ToList();
        await DeleteIndicesAsync(doomed, cancellationToken);
        if (doomed.Count > 0)
        {
            _logger.LogInformation("Elasticsearch retention: dropped {Count} monthly indices before {Cutoff:yyyy-MM-dd}: {Indices}",
                doomed.Count, cutoff, string.Join(", ", doomed));
        }

        return doomed.Count;
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Deletes the monthly indices (not just their documents, so a new embedder's dimensions can take effect) and
    /// writes the template for the configured embedder: the first step of <c>finnews reindex</c>.
    /// </remarks>
    public async Task ClearAsync(CancellationToken cancellationToken = default)
    {
        await _initGate.WaitAsync(cancellationToken);
        try
        {
            var dimensions = await ResolveDimensionsAsync(cancellationToken);
            await ConnectAsync(cancellationToken);
            var existing = (await ExistingIndicesAsync(cancellationToken)).Select(i => i.Index).ToList();
            await DeleteIndicesAsync(existing, cancellationToken);
            lock (_knownIndicesLock)
            {
                _knownIndices.Clear();
            }

            await PutTemplateAsync(dimensions, cancellationToken);
            _logger.LogInformation("Elasticsearch: deleted {Count} chunk indices for a rebuild with embedder {Embedder}", existing.Count, _embedderName);
            _initialized = true;
        }
        finally
        {
            _initGate.Release();
        }
    }

    /// <inheritdoc/>
    /// <remarks>Refreshes the alias first, so chunks written a moment ago are counted (reindex verifies with this).</remarks>
    public async Task<long> CountAsync(CancellationToken cancellationToken = default)
    {
        var alias = _options.EffectiveAlias;
        var refresh = await _client.Indices.RefreshAsync(new RefreshRequest(alias), cancellationToken);
        if (IsIndexNotFound(refresh))
        {
            return 0; // no month has been indexed yet, so the alias does not exist
        }

        Ensure(refresh, "refresh");
        var response = await _client.CountAsync(new CountRequest(alias), cancellationToken);
        if (IsIndexNotFound(response))
        {
            return 0;
        }

        Ensure(response, "count");
        return response.Count;
    }

    /// <inheritdoc/>
    public void Dispose() => _initGate.Dispose();

    private static ElasticsearchClientSettings Settings(ElasticsearchOptions options, IReadOnlyList<Uri> nodes)
    {
        NodePool pool = nodes.Count == 1 ? new SingleNodePool(nodes[0]) : new StaticNodePool(nodes.Select(u => new Node(u)));
        var settings = new ElasticsearchClientSettings(pool)
            .RequestTimeout(TimeSpan.FromSeconds(options.RequestTimeoutSeconds))
            .EnableHttpCompression(true);
        if (!string.IsNullOrEmpty(options.ApiKey))
        {
            settings = settings.Authentication(new ApiKey(options.ApiKey));
        }
        else if (!string.IsNullOrEmpty(options.Username))
        {
            settings = settings.Authentication(new BasicAuthentication(options.Username, options.Password ?? string.Empty));
        }

        if (options.CertificateFingerprint is { Length: > 0 } fingerprint)
        {
            settings = settings.CertificateFingerprint(ElasticsearchOptions.NormalizeFingerprint(fingerprint)
                ?? throw new ArgumentException("Elasticsearch:CertificateFingerprint must be 64 hex digits (SHA-256)", nameof(options)));
        }

        return settings;
    }

    /// <summary>Reads version, flavour and licence, refuses 8.x and red clusters, and picks the hybrid path.</summary>
    private async Task ConnectAsync(CancellationToken cancellationToken)
    {
        var info = await _client.InfoAsync(cancellationToken);
        if (!info.IsValidResponse)
        {
            var (status, type, _) = ErrorOf(info);
            if (type is "media_type_header_exception" || status is 400 or 406)
            {
                throw new InvalidOperationException(
                    $"Elasticsearch at {_displayUrl} refused the 9.x client's compatibility headers ({status} {type}); it is probably " +
                    "Elasticsearch 8.x or older. FinNews needs Elasticsearch 9.x or Serverless; upgrade the cluster or set Search:Backend to sqlite.");
            }

            Ensure(info, "info");
        }

        var number = info.Version?.Number ?? "unknown";
        var serverless = string.Equals(info.Version?.BuildFlavor, "serverless", StringComparison.OrdinalIgnoreCase);
        if (!serverless && (!int.TryParse(number.Split('.')[0], NumberStyles.None, CultureInfo.InvariantCulture, out var major) || major < 9))
        {
            throw new InvalidOperationException(
                $"Elasticsearch {number} at {_displayUrl} is not supported: FinNews uses the 9.x client (Elastic.Clients.Elasticsearch 9), " +
                "which supports Elasticsearch 9.x and Serverless, not 8.x. Upgrade the cluster or set Search:Backend to sqlite.");
        }

        string? licenceType = null, licenceStatus = null;
        if (!serverless)
        {
            await CheckHealthAsync(cancellationToken);
            var licence = await _client.LicenseManagement.GetAsync(cancellationToken);
            if (licence.IsValidResponse && licence.License is { } l)
            {
                licenceType = l.Type.ToString().ToLowerInvariant();
                licenceStatus = l.Status.ToString().ToLowerInvariant();
            }
            else
            {
                var (status, type, _) = ErrorOf(licence);
                _logger.LogWarning("Elasticsearch: could not read _license ({Status} {Type}); treating the licence as basic", status, type);
            }
        }

        Cluster = new ClusterFacts(number, serverless, licenceType, licenceStatus);
        (HybridPath, HybridPathReason) = HybridPlanner.Choose(_options.HybridRetriever, _fusion.Fusion, Cluster);
        if (HybridPathReason is not null)
        {
            _logger.LogWarning("{Reason}", HybridPathReason);
        }

        _logger.LogInformation("{Cluster} at {Url}; hybrid search via {Path}", Cluster.Describe(), _displayUrl, HybridPath);
    }

    /// <summary>A red cluster is missing primary shards: indexing and search would fail, so say so up front.</summary>
    private async Task CheckHealthAsync(CancellationToken cancellationToken)
    {
        var health = await _client.Cluster.HealthAsync(cancellationToken);
        if (!health.IsValidResponse)
        {
            return; // a user without the monitor privilege cannot read health; the requests that follow will tell
        }

        if (health.Status == HealthStatus.Red)
        {
            throw new InvalidOperationException(
                $"Elasticsearch cluster at {_displayUrl} is red: {health.UnassignedShards} unassigned shards, " +
                string.Create(CultureInfo.InvariantCulture, $"{health.ActiveShardsPercentAsNumber:0.#}% of shards active on {health.NumberOfNodes} nodes ") +
                $"(cluster '{health.ClusterName}'); some primary shards are missing, so indexing and search would fail. " +
                "Fix the cluster (GET _cluster/allocation/explain) and start again.");
        }
    }

    private async Task<(List<RankedChunk> Ranked, SearchExplanation Explanation)> HybridAsync(
        string text, List<Query> filters, int depth, Dictionary<string, string> texts, CancellationToken cancellationToken)
    {
        var alias = _options.EffectiveAlias;
        var vector = await EmbedQueryAsync(text, cancellationToken);
        if (vector is null)
        {
            // Nothing embeddable (e.g. only punctuation): hybrid degrades to lexical.
            var lexicalOnly = await SearchAsync("lexical search", ElasticsearchQueries.Lexical(alias, text, filters, depth), false, texts, cancellationToken);
            return (lexicalOnly, Explain("_search: multi_match BM25 only (nothing embeddable in the query)", null));
        }

        switch (HybridPath)
        {
            case HybridPath.RrfRetriever:
                var rrf = await SearchAsync("rrf retriever search", ElasticsearchQueries.Rrf(alias, text, vector, filters, depth, _fusion), false, texts, cancellationToken);
                return (rrf, Explain(
                    string.Create(CultureInfo.InvariantCulture, $"_search: server-side rrf retriever over standard (multi_match) + knn, rank_window_size {depth}"),
                    (_fusion with { Fusion = HybridFusion.ReciprocalRank }).Describe()));
            case HybridPath.LinearRetriever:
                var linear = await SearchAsync("linear retriever search", ElasticsearchQueries.Linear(alias, text, vector, filters, depth, _fusion), false, texts, cancellationToken);
                return (linear, Explain(
                    string.Create(CultureInfo.InvariantCulture, $"_search: server-side linear retriever (minmax) over standard (multi_match) + knn, rank_window_size {depth}"),
                    (_fusion with { Fusion = HybridFusion.Convex }).Describe()));
            default:
                var response = await _client.MultiSearchAsync<ChunkHit>(ElasticsearchQueries.Hybrid(alias, text, vector, filters, depth, _fusion.VectorFloor), cancellationToken);
                // 200 with per-search errors (e.g. nothing indexed yet: 404 index_not_found) is handled search by search.
                if (response.ApiCallDetails?.HttpStatusCode != 200 || response.Responses is null)
                {
                    Ensure(response, "hybrid _msearch");
                    throw new ElasticsearchException($"Elasticsearch hybrid _msearch at {_displayUrl} answered without responses: {ErrorOf(response).Reason}");
                }

                var lists = response.Responses.Select((item, i) => item.Match(
                    ok => Ranked(ok?.HitsMetadata?.Hits ?? [], knn: i == 1, texts),
                    error => error is null || error.Status == 404 ? [] : throw new ElasticsearchException(
                        $"Elasticsearch hybrid _msearch at {_displayUrl}: search {i + 1} failed with {error.Status} {error.Error?.Type}: {error.Error?.Reason}",
                        error.Status, error.Error?.Type))).ToList();
                if (lists.Count != 2)
                {
                    throw new ElasticsearchException($"Elasticsearch _msearch answered {lists.Count} responses for 2 searches");
                }

                var fused = HybridRanking.Fuse(lists[0], lists[1], _fusion);
                var notes = HybridPathReason is null ? [] : new List<string> { HybridPathReason };
                return (fused, Explain(
                    $"_msearch: multi_match BM25 ({lists[0].Count} candidates) + knn ({lists[1].Count} candidates), fused client-side by the embedded index's fusion",
                    _fusion.Describe(), notes));
        }
    }

    /// <summary>One search; knn scores ((1 + cos) / 2 for cosine) are mapped back to cosines, as the embedded index reports them.</summary>
    private async Task<List<RankedChunk>> SearchAsync(
        string operation, SearchRequest request, bool knn, Dictionary<string, string> texts, CancellationToken cancellationToken)
    {
        var response = await _client.SearchAsync<ChunkHit>(request, cancellationToken);
        if (IsIndexNotFound(response))
        {
            return []; // nothing indexed yet
        }

        Ensure(response, operation);
        return Ranked(response.HitsMetadata?.Hits ?? [], knn, texts);
    }

    /// <summary>Hits as ranked chunks; their texts go into <paramref name="texts"/> for the hits finally returned.</summary>
    private static List<RankedChunk> Ranked(IEnumerable<Hit<ChunkHit>> hits, bool knn, Dictionary<string, string> texts)
    {
        var ranked = new List<RankedChunk>();
        foreach (var hit in hits)
        {
            var chunkId = hit.Source?.ChunkId ?? hit.Id;
            if (hit.Source?.ArticleId is not { } articleId || chunkId is null)
            {
                continue;
            }

            var score = hit.Score ?? 0;
            var published = DateTimeOffset.TryParse(hit.Source.PublishedAt, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var p)
                ? p.ToUnixTimeMilliseconds()
                : 0;
            ranked.Add(new RankedChunk(articleId, chunkId, knn ? (2 * score) - 1 : score, published));
            texts.TryAdd(chunkId, hit.Source.Text ?? string.Empty);
        }

        return ranked;
    }

    private SearchExplanation Explain(string path, string? fusion, IReadOnlyList<string>? notes = null) => new(
        Cluster?.Describe() ?? "Elasticsearch",
        path,
        fusion,
        [
            .. notes ?? [],
            $"alias '{_options.EffectiveAlias}', {_options.VectorIndexType} vectors, embedder '{_embedderName}' ({_dimensions} dims)",
            $"hybrid path: {HybridPath} (Elasticsearch:HybridRetriever = '{_options.HybridRetriever}')",
        ]);

    /// <summary>The existing monthly indices with their mappings (empty when there are none).</summary>
    private async Task<List<(string Index, TypeMapping? Mappings)>> ExistingIndicesAsync(CancellationToken cancellationToken)
    {
        var response = await _client.Indices.GetMappingAsync(new GetMappingRequest(Indices.Parse($"{_options.IndexPrefix}-*")), cancellationToken);
        if (IsIndexNotFound(response))
        {
            return [];
        }

        Ensure(response, "get mappings");
        return response.Mappings
            .Where(p => ElasticsearchQueries.MonthEnd(_options.IndexPrefix, p.Key) is not null)
            .OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => (p.Key, (TypeMapping?)p.Value.Mappings))
            .ToList();
    }

    private async Task PutTemplateAsync(int dimensions, CancellationToken cancellationToken)
    {
        var response = await _client.Indices.PutIndexTemplateAsync(
            ElasticsearchQueries.IndexTemplate(_options, dimensions, _embedderName, Cluster?.Serverless == true), cancellationToken);
        Ensure(response, "put index template");
    }

    /// <summary>Creates a monthly index on first use; another writer creating it first is fine.</summary>
    private async Task EnsureIndexAsync(string index, CancellationToken cancellationToken)
    {
        lock (_knownIndicesLock)
        {
            if (_knownIndices.Contains(index))
            {
                return;
            }
        }

        var response = await _client.Indices.CreateAsync(
            ElasticsearchQueries.CreateIndex(index, _options, _dimensions, _embedderName, Cluster?.Serverless == true), cancellationToken);
        if (response.IsValidResponse)
        {
            _logger.LogInformation("Elasticsearch: created index {Index}", index);
        }
        else if (ErrorOf(response).Type != "resource_already_exists_exception")
        {
            Ensure(response, $"create index {index}");
        }

        RememberIndex(index);
    }

    private void RememberIndex(string index)
    {
        lock (_knownIndicesLock)
        {
            _knownIndices.Add(index);
        }
    }

    /// <summary>Deletes indices by name, never by wildcard: clusters refuse wildcard deletes (action.destructive_requires_name).</summary>
    private async Task DeleteIndicesAsync(IReadOnlyList<string> indices, CancellationToken cancellationToken)
    {
        foreach (var group in indices.Chunk(50))
        {
            var response = await _client.Indices.DeleteAsync(new DeleteIndexRequest(Indices.Parse(string.Join(',', group))), cancellationToken);
            if (!IsIndexNotFound(response))
            {
                Ensure(response, "delete indices");
            }

            lock (_knownIndicesLock)
            {
                _knownIndices.ExceptWith(group);
            }
        }
    }

    /// <summary>
    /// Removes the chunks each article no longer has. Runs after the bulk, so an article is never missing from search
    /// meanwhile. delete_by_query sees what was refreshed (1 s by default): stale chunks come from earlier writes, and
    /// the chunks just written are excluded by id, so no refresh is needed first.
    /// </summary>
    private async Task DeleteStaleChunksAsync(List<(Article Article, IReadOnlyList<ArticleChunk> Chunks)> chunked, CancellationToken cancellationToken)
    {
        foreach (var group in chunked.Chunk(1000))
        {
            var query = ElasticsearchQueries.StaleChunks(
                group.Select(g => g.Article.Id).Distinct(StringComparer.Ordinal), group.SelectMany(g => g.Chunks).Select(c => c.Id));
            await DeleteByQueryAsync("delete stale chunks", query, cancellationToken);
        }
    }

    private async Task DeleteByQueryAsync(string operation, Query query, CancellationToken cancellationToken)
    {
        // conflicts=proceed: a chunk rewritten concurrently is newer than this delete and must be kept, not fail it.
        var response = await _client.DeleteByQueryAsync(new DeleteByQueryRequest(_options.EffectiveAlias)
        {
            Query = query,
            Conflicts = Conflicts.Proceed,
            Refresh = true,
        }, cancellationToken);
        if (IsIndexNotFound(response))
        {
            return;
        }

        Ensure(response, operation);
        if (response.Failures is { Count: > 0 } failures)
        {
            var first = failures.First();
            throw new ElasticsearchException(
                $"Elasticsearch {operation} at {_displayUrl} reported {failures.Count} failures (first: {first.Status} {first.Cause?.Type}: {first.Cause?.Reason})");
        }
    }

    /// <summary>One <c>_bulk</c> request plus item-level retries of 429s; returns written, retried and failed items.</summary>
    private async Task<(int Indexed, int Retried, List<BulkItemFailure> Failures)> BulkAsync(
        IReadOnlyList<BulkItem> batch, CancellationToken cancellationToken)
    {
        var failures = new List<BulkItemFailure>();
        var indexed = 0;
        var retried = 0;
        IReadOnlyList<BulkItem> pending = batch;
        for (var attempt = 0; pending.Count > 0; attempt++)
        {
            var request = new BulkRequest
            {
                Operations = new BulkOperationsCollection(pending.Select(i =>
                    new BulkIndexOperation<ChunkDocument>(i.Document) { Index = i.Index, Id = i.Document.ChunkId })),
            };
            var response = await _client.BulkAsync(request, cancellationToken);
            var status = response.ApiCallDetails?.HttpStatusCode;
            List<BulkItem> rejected;
            if (status == 429)
            {
                // The whole request was rejected (queue full): every item is retryable.
                rejected = [.. pending];
                if (attempt >= _options.MaxRetries)
                {
                    failures.AddRange(pending.Select(i => i.Fail(429, "es_rejected_execution_exception", "bulk request rejected with 429 after every retry")));
                    break;
                }
            }
            else
            {
                if (status is not (>= 200 and < 300) || response.Items is null)
                {
                    throw new ElasticsearchException($"Elasticsearch bulk at {_displayUrl} answered {status} without items: {ErrorOf(response).Reason}");
                }

                var results = response.Items.ToList();
                if (results.Count != pending.Count)
                {
                    throw new ElasticsearchException(string.Create(CultureInfo.InvariantCulture,
                        $"Elasticsearch bulk answered {results.Count} items for {pending.Count} actions"));
                }

                rejected = [];
                for (var i = 0; i < pending.Count; i++)
                {
                    var item = pending[i];
                    var result = results[i];
                    if (result.Status is >= 200 and < 300)
                    {
                        indexed++;
                    }
                    else if (result.Status == 429 && attempt < _options.MaxRetries)
                    {
                        rejected.Add(item);
                    }
                    else
                    {
                        failures.Add(item.Fail(result.Status, result.Error?.Type, result.Error?.Reason));
                    }
                }
            }

            if (rejected.Count > 0)
            {
                var delay = Backoff(attempt);
                _logger.LogWarning("Elasticsearch bulk: {Count} items rejected with 429; retry {Attempt} of {MaxRetries} in {DelayMs} ms",
                    rejected.Count, attempt + 1, _options.MaxRetries, delay.TotalMilliseconds);
                await Task.Delay(delay, _time, cancellationToken);
                retried += rejected.Count;
            }

            pending = rejected;
        }

        return (indexed, retried, failures);
    }

    /// <summary>Exponential backoff with equal jitter: half the step fixed, half random, capped.</summary>
    private TimeSpan Backoff(int attempt)
    {
        var cap = TimeSpan.FromSeconds(_options.RetryMaxDelaySeconds).TotalMilliseconds;
        var step = Math.Min(cap, _options.RetryBaseDelayMilliseconds * Math.Pow(2, attempt));
#pragma warning disable CA5394 // Jitter only spreads retries; it needs no cryptographic randomness.
        return TimeSpan.FromMilliseconds((step / 2) + (Random.Shared.NextDouble() * step / 2));
#pragma warning restore CA5394
    }

    private async Task<float[]?> EmbedQueryAsync(string text, CancellationToken cancellationToken)
    {
        var embeddings = await _embedder.GenerateAsync([text], EmbeddingInput.Query, cancellationToken);
        var vector = Normalized(embeddings[0].Vector);
        return vector.AsSpan().ContainsAnyExcept(0f) ? vector : null;
    }

    /// <summary>Differences that make an existing index unusable with this configuration, each naming the field.</summary>
    internal static List<string> CompareMappings(string where, TypeMapping? mappings, int dimensions, string embedderName)
    {
        var problems = new List<string>();
        if (mappings is null)
        {
            problems.Add($"{where} has no mappings");
            return problems;
        }

        if (mappings.Meta?.TryGetValue(ElasticsearchQueries.MetaKey, out var record) == true && AsElement(record) is { ValueKind: JsonValueKind.Object } meta)
        {
            Expect("embedder", embedderName);
            Expect("dimensions", dimensions.ToString(CultureInfo.InvariantCulture));

            void Expect(string key, string want)
            {
                var have = meta.TryGetProperty(key, out var value) ? Scalar(value) : "(missing)";
                if (have != want)
                {
                    problems.Add($"{where} _meta.{ElasticsearchQueries.MetaKey}.{key} is '{have}', expected '{want}'");
                }
            }
        }
        else
        {
            problems.Add($"{where} has no _meta.{ElasticsearchQueries.MetaKey} record of the embedder it was built with");
        }

        // Only what changes results or breaks writes; index_options (quantization, m, ef_construction) may differ
        // between months, and new months get the configured ones.
        var expected = ElasticsearchQueries.Mappings(new ElasticsearchOptions(), dimensions, embedderName).Properties!;
        foreach (var (name, want) in expected)
        {
            var field = name.ToString();
            if (mappings.Properties is null || !mappings.Properties.TryGetProperty(name, out var have))
            {
                problems.Add($"{where} field '{field}' is missing");
                continue;
            }

            if (have.Type != want.Type)
            {
                problems.Add($"{where} field '{field}' has type '{have.Type}', expected '{want.Type}'");
            }
            else if (want is TextProperty text && have is TextProperty actualText && actualText.Analyzer != text.Analyzer)
            {
                problems.Add($"{where} field '{field}' has analyzer '{actualText.Analyzer ?? "(default)"}', expected '{text.Analyzer}'");
            }
            else if (want is DenseVectorProperty vector && have is DenseVectorProperty actual)
            {
                if (actual.Dims != vector.Dims)
                {
                    problems.Add(string.Create(CultureInfo.InvariantCulture, $"{where} field '{field}' has dims '{actual.Dims}', expected '{vector.Dims}'"));
                }

                if (actual.Similarity is { } similarity && similarity != vector.Similarity)
                {
                    problems.Add($"{where} field '{field}' has similarity '{similarity}', expected '{vector.Similarity}'");
                }
            }
        }

        return problems;
    }

    private static JsonElement? AsElement(object? value) => value switch
    {
        null => null,
        JsonElement element => element,
        _ => JsonSerializer.SerializeToElement(value),
    };

    private static string Scalar(JsonElement value) =>
        value.ValueKind == JsonValueKind.String ? value.GetString() ?? string.Empty : value.GetRawText();

    private static string Describe(BulkItemFailure failure) =>
        string.Create(CultureInfo.InvariantCulture, $"{failure.ChunkId} {failure.Status} {failure.ErrorType}: {failure.Reason}");

    private static bool IsIndexNotFound(ElasticsearchResponse response) =>
        !response.IsValidResponse && ErrorOf(response) is (404, "index_not_found_exception", _);

    /// <summary>Status, error type and reason of a failed response (never the request, which may carry credentials in its URI).</summary>
    private static (int? Status, string? Type, string? Reason) ErrorOf(ElasticsearchResponse response)
    {
        var error = response.ElasticsearchServerError?.Error;
        var status = response.ApiCallDetails?.HttpStatusCode;
        if (error is not null)
        {
            return (status, error.Type, error.CausedBy is null ? error.Reason : $"{error.Reason} (caused by {error.CausedBy.Type}: {error.CausedBy.Reason})");
        }

        return (status, null, response.ApiCallDetails?.OriginalException?.Message);
    }

    private void Ensure(ElasticsearchResponse response, string operation)
    {
        if (response.IsValidResponse)
        {
            return;
        }

        var (status, type, reason) = ErrorOf(response);
        throw new ElasticsearchException(
            $"Elasticsearch {operation} at {_displayUrl} failed: {(status is null ? "no response" : status.Value.ToString(CultureInfo.InvariantCulture))} {type}: {reason}",
            status, type, response.ApiCallDetails?.OriginalException);
    }

    private async Task<int> ResolveDimensionsAsync(CancellationToken cancellationToken)
    {
        if (_dimensions <= 0)
        {
            _dimensions = await IndexVectors.DimensionsAsync(_embedder, cancellationToken);
            if (_options.VectorIndexType.StartsWith("bbq", StringComparison.Ordinal) && _dimensions < 64)
            {
                throw new InvalidOperationException(
                    $"Elasticsearch:VectorIndexType '{_options.VectorIndexType}' needs at least 64 dimensions, but embedder '{_embedderName}' has {_dimensions}; use int8_hnsw");
            }
        }

        return _dimensions;
    }

    private float[] Normalized(ReadOnlyMemory<float> vector) => IndexVectors.UnitCopy(vector, _dimensions, _embedderName);

    /// <summary>One chunk's target index and document.</summary>
    private sealed record BulkItem(string Index, ChunkDocument Document)
    {
        public BulkItemFailure Fail(int status, string? type, string? reason) => new(Document.ChunkId, Document.ArticleId, Index, status, type, reason);
    }
}
