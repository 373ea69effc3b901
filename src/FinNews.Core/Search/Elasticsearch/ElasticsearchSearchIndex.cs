using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using FinNews.Core.Storage;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FinNews.Core.Search.Elasticsearch;

/// <summary>
/// The search index in Elasticsearch: chunks in monthly indices <c>{prefix}-yyyy.MM</c> (by publication month, so old
/// months can be dropped for retention) behind one alias, BM25 on english-analyzed text, kNN on a quantized HNSW
/// <c>dense_vector</c>, and hybrid search by reciprocal rank fusion: server-side with the <c>rrf</c> retriever on 8.16+,
/// client-side over two searches on older servers. A typed REST client over HttpClient (no Elastic package exists here).
/// </summary>
/// <remarks>
/// Bulk writes are per item: items rejected with 429 are retried alone with backoff; 400/409 items are reported and
/// logged, not retried (they would fail again). <see cref="IndexAsync"/> throws, leaving the batch unindexed for the
/// next drain, when an item failed transiently (429 after every retry, 5xx) or when every item failed (a systemic
/// problem such as a mapping conflict); a few permanently bad chunks do not block the queue forever.
/// </remarks>
public sealed partial class ElasticsearchSearchIndex : ISearchIndex, IDisposable
{
    private static readonly HttpMethod Get = HttpMethod.Get;
    private static readonly HttpMethod Put = HttpMethod.Put;
    private static readonly HttpMethod Post = HttpMethod.Post;
    private static readonly HttpMethod Delete = HttpMethod.Delete;

    // Retrievers (standard, knn, rrf) are GA from 8.16 (corpora/elasticsearch-api/SOURCE.md).
    private static readonly Version RetrieverVersion = new(8, 16);

    // Top-level knn in _search exists from 8.4; older servers only had the _knn_search endpoint.
    private static readonly Version KnnVersion = new(8, 4);

    private const int MaxLoggedItemFailures = 10;

    private readonly ElasticsearchOptions _options;
    private readonly IEmbeddingGenerator<string, Embedding<float>> _embedder;
    private readonly string _embedderName;
    private readonly ILogger _logger;
    private readonly ElasticsearchTransport _transport;
    private readonly SemaphoreSlim _initGate = new(1, 1);
    private readonly HashSet<string> _knownIndices = new(StringComparer.Ordinal);
    private readonly Lock _knownIndicesLock = new();

    private int _dimensions;
    private volatile bool _initialized;

    /// <summary>Creates the index client; nothing is sent until the first call.</summary>
    /// <param name="options">Connection and layout; validated here, every problem named.</param>
    /// <param name="embedder">Embeds chunks and queries; vectors are L2-normalized on the way in.</param>
    /// <param name="embedderName">The configured embedder name, recorded in each index's <c>_meta</c>.</param>
    /// <param name="logger">Receives request timings, retries and item failures; never a credential.</param>
    /// <param name="timeProvider">The clock for backoff delays and <c>Retry-After</c> dates.</param>
    public ElasticsearchSearchIndex(
        ElasticsearchOptions options,
        IEmbeddingGenerator<string, Embedding<float>> embedder,
        string embedderName,
        ILogger<ElasticsearchSearchIndex>? logger,
        TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(embedder);
        ArgumentException.ThrowIfNullOrWhiteSpace(embedderName);
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join("; ", errors), nameof(options));
        }

        _options = options;
        _embedder = embedder;
        _embedderName = embedderName;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _transport = new ElasticsearchTransport(options, _logger, timeProvider);
    }

    /// <summary>The server version read from <c>GET /</c> by <see cref="InitializeAsync"/>.</summary>
    public Version? ServerVersion { get; private set; }

    /// <summary>True on serverless projects (no cluster health API, retrievers always available).</summary>
    public bool IsServerless { get; private set; }

    /// <summary>Whether hybrid search runs as one <c>rrf</c> retriever request (8.16+) rather than two fused searches.</summary>
    public bool UsesRetrievers => IsServerless || ServerVersion >= RetrieverVersion;

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

            var expected = ElasticsearchRequests.Mappings(_options, dimensions, _embedderName);
            var problems = new List<string>();
            var template = await _transport.SendAsync(
                "get index template", Get, $"_index_template/{_options.IndexPrefix}", null, "application/json", cancellationToken);
            if (template.IsSuccess)
            {
                var parsed = ElasticsearchTransport.Parse("get index template", template.Body, ElasticsearchJsonContext.Default.IndexTemplatesResponse);
                foreach (var item in parsed.IndexTemplates ?? [])
                {
                    problems.AddRange(CompareMappings($"index template '{item.Name}'", item.IndexTemplate?.Template?.Mappings, expected));
                }
            }
            else if (template.Status != HttpStatusCode.NotFound)
            {
                throw _transport.Failure("get index template", Get, $"_index_template/{_options.IndexPrefix}", template);
            }

            foreach (var (index, mappings) in await ExistingIndicesAsync(cancellationToken))
            {
                problems.AddRange(CompareMappings($"index '{index}'", mappings, expected));
                RememberIndex(index);
            }

            if (problems.Count > 0)
            {
                throw new InvalidOperationException(
                    $"Elasticsearch at {_transport.DisplayUrl} holds a search index built differently from this configuration " +
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
    /// was not, with its status and reason. Old chunks of each article are deleted first, so a shorter re-indexed article
    /// leaves no stale tail.
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
            var index = ElasticsearchRequests.MonthlyIndex(_options.IndexPrefix, article.PublishedAt);
            var tickers = NormalizeTickers(article.Tickers);
            foreach (var chunk in chunks)
            {
                var vector = Normalized(embeddings[e++].Vector);
                var document = new ChunkDocument(
                    chunk.Id, article.Id, chunk.N, article.FeedId, tickers, ElasticsearchRequests.Date(article.PublishedAt),
                    article.Title, chunk.Text,
                    // Cosine is undefined for a zero vector and Elasticsearch rejects the document; such a chunk (no
                    // embeddable text) is still findable lexically, so it is written without a vector.
                    vector.AsSpan().ContainsAnyExcept(0f) ? vector : null);
                items.Add(new BulkItem(chunk.Id, article.Id, index, Ndjson(index, document)));
            }
        }

        foreach (var index in items.Select(i => i.Index).Distinct(StringComparer.Ordinal))
        {
            await EnsureIndexAsync(index, cancellationToken);
        }

        await DeleteOldChunksAsync(articles.Select(a => a.Id).Distinct(StringComparer.Ordinal).ToList(), cancellationToken);

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
    public async Task<IReadOnlyList<SearchHit>> SearchAsync(SearchQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfNegative(query.Limit);
        await InitializeAsync(cancellationToken);
        if (query.Limit == 0 || string.IsNullOrWhiteSpace(query.Text))
        {
            return [];
        }

        var tickers = query.Tickers is { Count: > 0 } ? NormalizeTickers(query.Tickers) : null;
        var filters = ElasticsearchRequests.Filters(query, tickers);

        // Deeper than the limit: several chunks may belong to one article, and fusion needs overlap to work with.
        var depth = Math.Min(Math.Max(query.Limit * 5, 50), 10_000);
        var candidates = Math.Min(Math.Max(depth * 2, 100), 10_000);
        List<SearchResponseHit> ranked;
        switch (query.Mode)
        {
            case SearchMode.Lexical:
                ranked = await SearchRequestAsync("lexical search", ElasticsearchRequests.LexicalSearch(query.Text, filters, depth), cancellationToken);
                break;
            case SearchMode.Vector:
                var vector = await EmbedQueryAsync(query.Text, cancellationToken);
                ranked = vector is null
                    ? []
                    : await SearchRequestAsync("knn search", ElasticsearchRequests.KnnSearch(vector, filters, depth, candidates), cancellationToken);
                break;
            case SearchMode.Hybrid:
                var queryVector = await EmbedQueryAsync(query.Text, cancellationToken);
                if (queryVector is null)
                {
                    // Nothing embeddable (e.g. only punctuation or stop-like tokens): hybrid degrades to lexical.
                    ranked = await SearchRequestAsync("lexical search", ElasticsearchRequests.LexicalSearch(query.Text, filters, depth), cancellationToken);
                }
                else if (UsesRetrievers)
                {
                    ranked = await SearchRequestAsync("rrf search",
                        ElasticsearchRequests.RrfSearch(query.Text, queryVector, filters, depth, candidates), cancellationToken);
                }
                else
                {
                    var lexical = await SearchRequestAsync("lexical search", ElasticsearchRequests.LexicalSearch(query.Text, filters, depth), cancellationToken);
                    var knn = await SearchRequestAsync("knn search", ElasticsearchRequests.KnnSearch(queryVector, filters, depth, candidates), cancellationToken);
                    ranked = FuseClientSide(lexical, knn);
                }

                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(query), query.Mode, "unknown search mode");
        }

        // Lists are best first, so the first chunk seen of an article is its best one.
        var hits = new List<SearchHit>(query.Limit);
        var articles = new HashSet<string>(StringComparer.Ordinal);
        foreach (var hit in ranked)
        {
            var chunkId = hit.Source?.ChunkId ?? hit.Id;
            if (hit.Source?.ArticleId is not { } articleId || chunkId is null || !articles.Add(articleId))
            {
                continue;
            }

            hits.Add(new SearchHit(articleId, chunkId, hit.Score ?? 0, hit.Source.Text ?? string.Empty));
            if (hits.Count == query.Limit)
            {
                break;
            }
        }

        return hits;
    }

    /// <inheritdoc/>
    public async Task DeleteAsync(IReadOnlyCollection<string> articleIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(articleIds);
        await InitializeAsync(cancellationToken);
        foreach (var batch in articleIds.Chunk(500))
        {
            await DeleteOldChunksAsync(batch, cancellationToken);
        }
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
            // Named, never a wildcard: clusters refuse wildcard deletes by default (action.destructive_requires_name).
            foreach (var group in existing.Chunk(50))
            {
                var path = string.Join(',', group);
                var response = await _transport.SendAsync("delete indices", Delete, path, null, "application/json", cancellationToken);
                if (!response.IsSuccess && response.Status != HttpStatusCode.NotFound)
                {
                    throw _transport.Failure("delete indices", Delete, path, response);
                }
            }

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
    public async Task<long> CountAsync(CancellationToken cancellationToken = default)
    {
        var path = $"{_options.EffectiveAlias}/_count";
        var response = await _transport.SendAsync("count", Post, path, Json(ElasticsearchRequests.MatchAll()), "application/json", cancellationToken);
        if (response.Status == HttpStatusCode.NotFound)
        {
            return 0; // no month has been indexed yet, so the alias does not exist
        }

        if (!response.IsSuccess)
        {
            throw _transport.Failure("count", Post, path, response);
        }

        return ElasticsearchTransport.Parse("count", response.Body, ElasticsearchJsonContext.Default.CountResponse).Count;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _transport.Dispose();
        _initGate.Dispose();
    }

    /// <summary>Reads the version (<c>GET /</c>) and refuses a red cluster (<c>GET _cluster/health</c>).</summary>
    private async Task ConnectAsync(CancellationToken cancellationToken)
    {
        var root = await _transport.SendAsync("info", Get, string.Empty, null, ElasticsearchJsonContext.Default.RootResponse, cancellationToken);
        if (string.Equals(root.Version?.Distribution, "opensearch", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"{_transport.DisplayUrl} is OpenSearch, which this Elasticsearch client does not support");
        }

        IsServerless = string.Equals(root.Version?.BuildFlavor, "serverless", StringComparison.OrdinalIgnoreCase);
        ServerVersion = ParseVersion(root.Version?.Number)
            ?? throw new ElasticsearchException($"Elasticsearch at {_transport.DisplayUrl} reported no usable version ('{root.Version?.Number}')");
        if (!IsServerless && ServerVersion < KnnVersion)
        {
            throw new InvalidOperationException(
                $"Elasticsearch {ServerVersion} at {_transport.DisplayUrl} is too old: kNN search needs {KnnVersion} or later");
        }

        // Serverless has no cluster health API: the platform manages availability.
        if (!IsServerless)
        {
            var health = await _transport.SendAsync(
                "cluster health", Get, "_cluster/health", null, ElasticsearchJsonContext.Default.ClusterHealthResponse, cancellationToken);
            var status = health.Status?.ToLowerInvariant();
            if (status == "red")
            {
                var active = (health.ActiveShardsPercent ?? 0).ToString("0.#", CultureInfo.InvariantCulture);
                throw new InvalidOperationException(
                    $"Elasticsearch cluster at {_transport.DisplayUrl} is red: {health.UnassignedShards ?? 0} unassigned shards, " +
                    $"{active}% of shards active on {health.NumberOfNodes ?? 0} nodes " +
                    $"(cluster '{health.ClusterName}'); some primary shards are missing, so indexing and search would fail. " +
                    "Fix the cluster (GET _cluster/allocation/explain) and start again.");
            }

            if (status == "yellow")
            {
                _logger.LogInformation("Elasticsearch cluster {Cluster} is yellow (replicas unassigned); search and indexing work", health.ClusterName);
            }
        }

        _logger.LogInformation("Elasticsearch {Version} at {Url}; hybrid search via {Mode}",
            ServerVersion, _transport.DisplayUrl, UsesRetrievers ? "rrf retriever" : "client-side fusion");
    }

    /// <summary>The existing monthly indices with their mappings (empty when there are none).</summary>
    private async Task<List<(string Index, JsonElement? Mappings)>> ExistingIndicesAsync(CancellationToken cancellationToken)
    {
        var path = $"{_options.IndexPrefix}-*/_mapping";
        var response = await _transport.SendAsync("get mappings", Get, path, null, "application/json", cancellationToken);
        if (response.Status == HttpStatusCode.NotFound)
        {
            return [];
        }

        if (!response.IsSuccess)
        {
            throw _transport.Failure("get mappings", Get, path, response);
        }

        var parsed = ElasticsearchTransport.Parse("get mappings", response.Body, ElasticsearchJsonContext.Default.DictionaryStringIndexMappingEntry);
        return parsed
            .Where(p => p.Key.StartsWith(_options.IndexPrefix, StringComparison.Ordinal) && MonthlyIndexName().IsMatch(p.Key.AsSpan(_options.IndexPrefix.Length)))
            .OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => (p.Key, p.Value.Mappings))
            .ToList();
    }

    private async Task PutTemplateAsync(int dimensions, CancellationToken cancellationToken)
    {
        var body = ElasticsearchRequests.IndexTemplate(_options, dimensions, _embedderName);
        await _transport.SendAsync("put index template", Put, $"_index_template/{_options.IndexPrefix}", Json(body),
            ElasticsearchJsonContext.Default.AcknowledgedResponse, cancellationToken);
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

        var body = ElasticsearchRequests.CreateIndex(_options, _dimensions, _embedderName);
        var response = await _transport.SendAsync("create index", Put, index, Json(body), "application/json", cancellationToken);
        if (!response.IsSuccess)
        {
            var (type, _) = ElasticsearchTransport.DescribeError(response.Body);
            if (type != "resource_already_exists_exception")
            {
                throw _transport.Failure("create index", Put, index, response);
            }
        }
        else
        {
            _logger.LogInformation("Elasticsearch: created index {Index}", index);
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

    /// <summary>Deletes every chunk of these articles across all months (an article's month can change on re-ingest).</summary>
    private async Task DeleteOldChunksAsync(IReadOnlyList<string> articleIds, CancellationToken cancellationToken)
    {
        var alias = _options.EffectiveAlias;
        // delete_by_query only sees refreshed documents; chunks written moments ago by an earlier batch would survive.
        var refresh = await _transport.SendAsync("refresh", Post, $"{alias}/_refresh", null, "application/json", cancellationToken);
        if (!refresh.IsSuccess && refresh.Status != HttpStatusCode.NotFound)
        {
            throw _transport.Failure("refresh", Post, $"{alias}/_refresh", refresh);
        }

        // conflicts=proceed: a chunk rewritten concurrently is newer than this delete and must be kept, not fail it.
        var path = $"{alias}/_delete_by_query?conflicts=proceed&refresh=true";
        foreach (var group in articleIds.Chunk(1000))
        {
            var response = await _transport.SendAsync("delete old chunks", Post, path,
                Json(ElasticsearchRequests.DeleteArticles(group)), "application/json", cancellationToken);
            if (response.Status == HttpStatusCode.NotFound)
            {
                return;
            }

            if (!response.IsSuccess)
            {
                throw _transport.Failure("delete old chunks", Post, path, response);
            }

            var result = ElasticsearchTransport.Parse("delete old chunks", response.Body, ElasticsearchJsonContext.Default.DeleteByQueryResponse);
            if (result.Failures is { Count: > 0 } failures)
            {
                throw new ElasticsearchException(
                    $"Elasticsearch delete of old chunks at {_transport.DisplayUrl} reported {failures.Count} failures: {failures[0].GetRawText()}");
            }
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
            var body = new byte[pending.Sum(i => i.Ndjson.Length)];
            var offset = 0;
            foreach (var item in pending)
            {
                item.Ndjson.CopyTo(body, offset);
                offset += item.Ndjson.Length;
            }

            var response = await _transport.SendAsync("bulk", Post, "_bulk", body, "application/x-ndjson", cancellationToken);
            if (response.Status == HttpStatusCode.TooManyRequests)
            {
                // The transport already honoured Retry-After MaxRetries times; these items are transient failures.
                failures.AddRange(pending.Select(i => i.Fail(429, "es_rejected_execution_exception", "request rejected with 429 after every retry")));
                break;
            }

            if (!response.IsSuccess)
            {
                throw _transport.Failure("bulk", Post, "_bulk", response);
            }

            var parsed = ElasticsearchTransport.Parse("bulk", response.Body, ElasticsearchJsonContext.Default.BulkResponse);
            if (parsed.Items.Count != pending.Count)
            {
                throw new ElasticsearchException(string.Create(CultureInfo.InvariantCulture,
                    $"Elasticsearch bulk answered {parsed.Items.Count} items for {pending.Count} actions"));
            }

            var rejected = new List<BulkItem>();
            for (var i = 0; i < pending.Count; i++)
            {
                var item = pending[i];
                var result = parsed.Items[i].Values.FirstOrDefault();
                var status = result?.Status ?? 0;
                if (status is >= 200 and < 300)
                {
                    indexed++;
                }
                else if (status == 429 && attempt < _options.MaxRetries)
                {
                    rejected.Add(item);
                }
                else
                {
                    failures.Add(item.Fail(status, result?.Error?.Type, result?.Error?.Reason));
                }
            }

            if (rejected.Count > 0)
            {
                var delay = _transport.Backoff(attempt);
                _logger.LogWarning("Elasticsearch bulk: {Count} items rejected with 429; retry {Attempt} of {MaxRetries} in {DelayMs} ms",
                    rejected.Count, attempt + 1, _options.MaxRetries, delay.TotalMilliseconds);
                await _transport.DelayAsync(delay, cancellationToken);
                retried += rejected.Count;
            }

            pending = rejected;
        }

        return (indexed, retried, failures);
    }

    private async Task<List<SearchResponseHit>> SearchRequestAsync(string operation, JsonObject body, CancellationToken cancellationToken)
    {
        var path = $"{_options.EffectiveAlias}/_search";
        var response = await _transport.SendAsync(operation, Post, path, Json(body), "application/json", cancellationToken);
        if (response.Status == HttpStatusCode.NotFound
            && ElasticsearchTransport.DescribeError(response.Body).Type == "index_not_found_exception")
        {
            return []; // nothing indexed yet
        }

        if (!response.IsSuccess)
        {
            throw _transport.Failure(operation, Post, path, response);
        }

        var parsed = ElasticsearchTransport.Parse(operation, response.Body, ElasticsearchJsonContext.Default.SearchResponse);
        return parsed.Hits?.Hits.ToList() ?? [];
    }

    /// <summary>Reciprocal rank fusion of chunk rankings, as in <see cref="SqliteSearchIndex"/> (k = 60).</summary>
    private static List<SearchResponseHit> FuseClientSide(List<SearchResponseHit> lexical, List<SearchResponseHit> knn)
    {
        var byId = new Dictionary<string, SearchResponseHit>(StringComparer.Ordinal);
        foreach (var hit in lexical.Concat(knn))
        {
            if (hit.Id is not null)
            {
                byId.TryAdd(hit.Id, hit);
            }
        }

        return ReciprocalRankFusion
            .Fuse([Ids(lexical), Ids(knn)])
            .Select(f => byId[f.Id] with { Score = f.Score })
            .ToList();

        static List<string> Ids(List<SearchResponseHit> hits) => hits.Where(h => h.Id is not null).Select(h => h.Id!).ToList();
    }

    private async Task<float[]?> EmbedQueryAsync(string text, CancellationToken cancellationToken)
    {
        var embeddings = await _embedder.GenerateAsync([text], cancellationToken: cancellationToken);
        var vector = Normalized(embeddings[0].Vector);
        return vector.AsSpan().ContainsAnyExcept(0f) ? vector : null;
    }

    /// <summary>Differences that make an existing index unusable with this configuration, each naming the field.</summary>
    internal static List<string> CompareMappings(string where, JsonElement? existing, JsonObject expected)
    {
        var problems = new List<string>();
        if (existing is not { ValueKind: JsonValueKind.Object } mappings)
        {
            problems.Add($"{where} has no mappings");
            return problems;
        }

        var expectedMeta = expected["_meta"]![ElasticsearchRequests.MetaKey]!.AsObject();
        if (mappings.TryGetProperty("_meta", out var meta) && meta.TryGetProperty(ElasticsearchRequests.MetaKey, out var record))
        {
            foreach (var key in new[] { "embedder", "dimensions" })
            {
                var have = record.TryGetProperty(key, out var recorded) ? Scalar(recorded) : "(missing)";
                var want = expectedMeta[key]!.ToJsonString().Trim('"');
                if (have != want)
                {
                    problems.Add($"{where} _meta.{ElasticsearchRequests.MetaKey}.{key} is '{have}', expected '{want}'");
                }
            }
        }
        else
        {
            problems.Add($"{where} has no _meta.{ElasticsearchRequests.MetaKey} record of the embedder it was built with");
        }

        mappings.TryGetProperty("properties", out var properties);
        foreach (var (field, node) in expected["properties"]!.AsObject())
        {
            if (properties.ValueKind != JsonValueKind.Object || !properties.TryGetProperty(field, out var actual))
            {
                problems.Add($"{where} field '{field}' is missing");
            }
            else
            {
                CompareField(problems, where, field, node!.AsObject(), actual);
            }
        }

        return problems;
    }

    private static void CompareField(List<string> problems, string where, string field, JsonObject expected, JsonElement actual)
    {
        // Only what changes results or breaks writes; index_options (quantization, m, ef_construction) may differ
        // between months, and new months get the configured ones.
        foreach (var key in new[] { "type", "analyzer", "dims", "similarity" })
        {
            if (expected[key] is not { } want)
            {
                continue;
            }

            var wantText = want.ToJsonString().Trim('"');
            var have = actual.TryGetProperty(key, out var value) ? Scalar(value) : "(default)";
            if (have != wantText)
            {
                problems.Add($"{where} field '{field}' has {key} '{have}', expected '{wantText}'");
            }
        }
    }

    private static string Scalar(JsonElement value) =>
        value.ValueKind == JsonValueKind.String ? value.GetString() ?? string.Empty : value.GetRawText();

    private static string Describe(BulkItemFailure failure) =>
        string.Create(CultureInfo.InvariantCulture, $"{failure.ChunkId} {failure.Status} {failure.ErrorType}: {failure.Reason}");

    private static byte[] Json(JsonNode body) => Encoding.UTF8.GetBytes(body.ToJsonString());

    private static byte[] Ndjson(string index, ChunkDocument document)
    {
        using var stream = new MemoryStream();
        JsonSerializer.Serialize(stream, new BulkIndexAction(new BulkActionTarget(index, document.ChunkId)), ElasticsearchJsonContext.Default.BulkIndexAction);
        stream.WriteByte((byte)'\n');
        JsonSerializer.Serialize(stream, document, ElasticsearchJsonContext.Default.ChunkDocument);
        stream.WriteByte((byte)'\n');
        return stream.ToArray();
    }

    internal static Version? ParseVersion(string? number)
    {
        var match = number is null ? null : VersionNumber().Match(number);
        return match is { Success: true }
            ? new Version(
                int.Parse(match.Groups[1].ValueSpan, CultureInfo.InvariantCulture),
                int.Parse(match.Groups[2].ValueSpan, CultureInfo.InvariantCulture),
                match.Groups[3].Success ? int.Parse(match.Groups[3].ValueSpan, CultureInfo.InvariantCulture) : 0)
            : null;
    }

    private async Task<int> ResolveDimensionsAsync(CancellationToken cancellationToken)
    {
        if (_dimensions <= 0)
        {
            _dimensions = await IndexVectors.DimensionsAsync(_embedder, cancellationToken);
        }

        return _dimensions;
    }

    private float[] Normalized(ReadOnlyMemory<float> vector) => IndexVectors.UnitCopy(vector, _dimensions, _embedderName);

    private static List<string> NormalizeTickers(IReadOnlyList<string> tickers) => IndexVectors.NormalizeTickers(tickers);

    [GeneratedRegex(@"^(\d+)\.(\d+)(?:\.(\d+))?", RegexOptions.CultureInvariant)]
    private static partial Regex VersionNumber();

    [GeneratedRegex(@"^-\d{4}\.\d{2}$", RegexOptions.CultureInvariant)]
    private static partial Regex MonthlyIndexName();

    /// <summary>One chunk's serialized action and source lines.</summary>
    private sealed record BulkItem(string ChunkId, string ArticleId, string Index, byte[] Ndjson)
    {
        public BulkItemFailure Fail(int status, string? type, string? reason) => new(ChunkId, ArticleId, Index, status, type, reason);
    }
}
