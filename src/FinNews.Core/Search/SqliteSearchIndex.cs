using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using FinNews.Core.Feeds;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.AI;

namespace FinNews.Core.Search;

/// <summary>
/// The embedded search index: chunks, metadata and vectors in SQLite, BM25 over chunk text in a Lucene.Net index beside
/// the database file (<c>{file}.lucene</c>, see <see cref="LuceneLexicalIndex"/>), an exact in-memory cosine scan over
/// chunk vectors, and their fusion (convex score mix or weighted reciprocal rank, <see cref="SqliteSearchIndexOptions"/>)
/// with a relevance floor for vector-only hits and optional recency decay. Every table is prefixed <c>search_</c> so it
/// can share the application's file.
/// </summary>
/// <remarks>
/// A connection is opened per operation (Microsoft.Data.Sqlite pools them), so the index is safe to use from many
/// threads. Writes are serialized (within the process by a gate, across processes by Lucene's write lock, taken first)
/// and commit SQLite in one transaction, then Lucene. The vector table is loaded lazily and patched in place by this
/// process's writes; a generation counter in <c>search_meta</c>, bumped by every write and recorded in every Lucene
/// commit, tells a search when another process has written, and tells a writer when the lexical index is behind
/// (a crash between the two commits, or an index built by an older version with SQLite FTS5) and must be rebuilt from
/// <c>search_chunks</c>.
/// </remarks>
public sealed class SqliteSearchIndex : ISearchIndex, IDisposable
{
    private const string MetaEmbedder = "embedder";
    private const string MetaDimensions = "dimensions";
    private const string MetaGeneration = "generation";

    // Rebuild the vector table from disk once tombstones outnumber live rows; patching forever would leak memory.
    private const int MinDeadRowsBeforeRebuild = 4096;

    private const string Schema = """
        CREATE TABLE IF NOT EXISTS search_meta (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS search_chunks (
            id INTEGER PRIMARY KEY,
            chunk_id TEXT NOT NULL UNIQUE,
            article_id TEXT NOT NULL,
            n INTEGER NOT NULL,
            text TEXT NOT NULL,
            published_at INTEGER NOT NULL,
            feed_id TEXT NOT NULL,
            tickers TEXT NOT NULL,
            vector BLOB NOT NULL
        );
        CREATE INDEX IF NOT EXISTS search_chunks_article ON search_chunks (article_id);
        CREATE INDEX IF NOT EXISTS search_chunks_published ON search_chunks (published_at);
        """;

    // Indexes built before Lucene was the lexical engine kept an FTS5 table fed by triggers; the Lucene index is
    // rebuilt from search_chunks (the generation it records is missing), and these would only slow every write.
    private const string DropFts5 = """
        DROP TRIGGER IF EXISTS search_chunks_ai;
        DROP TRIGGER IF EXISTS search_chunks_ad;
        DROP TRIGGER IF EXISTS search_chunks_au;
        DROP TABLE IF EXISTS search_fts;
        """;

    private readonly string _connectionString;
    private readonly IEmbeddingGenerator<string, Embedding<float>> _embedder;
    private readonly string _embedderName;
    private readonly SqliteSearchIndexOptions _options;
    private readonly LuceneLexicalIndex _lexical;
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private readonly SemaphoreSlim _initGate = new(1, 1);
    private readonly SemaphoreSlim _loadGate = new(1, 1);
    private readonly ReaderWriterLockSlim _tableLock = new();

    private int _dimensions;
    private volatile bool _initialized;
    private VectorTable? _table;

    /// <summary>Creates the index; nothing touches the database until the first call.</summary>
    /// <param name="connectionString">A SQLite connection string for a file (in-memory databases do not survive the per-operation connections).</param>
    /// <param name="embedder">Embeds chunks and queries; vectors are L2-normalized on the way in, so scores are cosines.</param>
    /// <param name="embedderName">The configured embedder name (<c>hashing</c>, <c>glove</c>, <c>openai</c>), recorded in the index.</param>
    /// <param name="options">Tokenizer, fusion and recency settings; <c>null</c> for <see cref="SqliteSearchIndexOptions.Default"/>.</param>
    public SqliteSearchIndex(
        string connectionString,
        IEmbeddingGenerator<string, Embedding<float>> embedder,
        string embedderName,
        SqliteSearchIndexOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        ArgumentNullException.ThrowIfNull(embedder);
        ArgumentException.ThrowIfNullOrWhiteSpace(embedderName);
        options ??= SqliteSearchIndexOptions.Default;
        options.Validate();
        _connectionString = connectionString;
        _embedder = embedder;
        _embedderName = embedderName;
        _options = options;
        _lexical = new LuceneLexicalIndex(LexicalPath(connectionString));
    }

    /// <summary>The Lucene folder beside the database file (<c>{file}.lucene</c>); <c>null</c> for an in-memory database.</summary>
    internal static string? LexicalPath(string connectionString)
    {
        var builder = new SqliteConnectionStringBuilder(connectionString);
        var source = builder.DataSource;
        return builder.Mode == SqliteOpenMode.Memory || string.IsNullOrEmpty(source) || source == ":memory:"
            ? null
            : Path.GetFullPath(source) + ".lucene";
    }

    /// <summary>The settings this index runs with.</summary>
    public SqliteSearchIndexOptions Options => _options;

    /// <summary>The lexical index's committed segment count; for tests that merges are kept.</summary>
    internal int LexicalSegments => _lexical.CommittedSegments();

    /// <summary>Forces the vector scan's 8-bit first pass on or off (<c>null</c>: by table size); for benchmarks measuring recall.</summary>
    internal bool? QuantizedVectorScan { get; set; }

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
            await using var connection = await OpenAsync(cancellationToken);
            await EnsureSchemaAsync(connection, cancellationToken);
            await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
            var recordedName = await ReadMetaAsync(connection, transaction, MetaEmbedder, cancellationToken);
            var recordedDims = await ReadMetaAsync(connection, transaction, MetaDimensions, cancellationToken);
            var matches = recordedName == _embedderName
                && recordedDims == dimensions.ToString(CultureInfo.InvariantCulture);
            if (!matches)
            {
                // An index with no chunks holds nothing that could be garbage, so it adopts the configured embedder.
                if (recordedName is not null && await CountChunksAsync(connection, transaction, cancellationToken) > 0)
                {
                    throw new InvalidOperationException(
                        $"search index was built with embedder '{recordedName}' ({recordedDims} dims) but " +
                        $"'{_embedderName}' ({dimensions} dims) is configured; run `finnews reindex`");
                }

                await WriteMetaAsync(connection, transaction, MetaEmbedder, _embedderName, cancellationToken);
                await WriteMetaAsync(connection, transaction, MetaDimensions, dimensions.ToString(CultureInfo.InvariantCulture), cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);

            // Bring the lexical index up to date before the first search (a no-op unless it is missing or behind). The
            // check reads the last commit without Lucene's write lock, which another process may hold for its writes;
            // only an index that is behind waits for the lock (and checks again under it).
            if (_lexical.CommittedGeneration() != await ReadGenerationAsync(connection, null, cancellationToken))
            {
                await _writeGate.WaitAsync(cancellationToken);
                try
                {
                    using var writer = _lexical.OpenWriter();
                    await using var sync = connection.BeginTransaction(deferred: true);
                    var generation = await ReadGenerationAsync(connection, sync, cancellationToken);
                    if (writer.CommittedGeneration != generation)
                    {
                        await RebuildLexicalAsync(connection, sync, writer, cancellationToken);
                        writer.Commit(generation);
                    }
                }
                finally
                {
                    _writeGate.Release();
                }
            }

            _initialized = true;
        }
        finally
        {
            _initGate.Release();
        }
    }

    /// <inheritdoc/>
    public async Task IndexAsync(IReadOnlyList<Article> articles, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(articles);
        await InitializeAsync(cancellationToken);
        if (articles.Count == 0)
        {
            return;
        }

        // Embedding may be a remote call: do it before taking the write lock or opening a transaction.
        var chunks = articles.Select(a => (Article: a, Chunks: Chunker.Chunk(a))).ToList();
        var texts = chunks.SelectMany(c => c.Chunks).Select(c => c.Text).ToList();
        var embeddings = await _embedder.GenerateAsync(texts, cancellationToken: cancellationToken);
        if (embeddings.Count != texts.Count)
        {
            throw new InvalidOperationException($"embedder '{_embedderName}' returned {embeddings.Count} vectors for {texts.Count} chunks");
        }

        var vectors = embeddings.Select(e => Normalized(e.Vector)).ToList();

        await _writeGate.WaitAsync(cancellationToken);
        try
        {
            using var lexical = _lexical.OpenWriter();
            await using var connection = await OpenAsync(cancellationToken);
            await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
            var before = await ReadGenerationAsync(connection, transaction, cancellationToken);
            var after = before + 1;
            var rebuild = lexical.CommittedGeneration != before;

            // The lexical index matches search_chunks at the generation it records, so unless it is behind, it is
            // written (analysis and inversion, the costliest part of a write) on another thread while this one writes
            // SQLite; nothing of either is visible before the commits below, SQLite first.
            var lexicalWrite = rebuild
                ? Task.CompletedTask
                : WriteLexicalAsync(lexical, chunks, await ArticlesWithChunksAsync(connection, transaction, articles, cancellationToken), cancellationToken);
            try
            {
                await WriteChunksAsync(connection, transaction, chunks, vectors, cancellationToken);
                await WriteMetaAsync(connection, transaction, MetaGeneration, after.ToString(CultureInfo.InvariantCulture), cancellationToken);
            }
            finally
            {
                // Never leave the lexical writer in use by another thread when this one gives up (the writer is then
                // rolled back on dispose).
                await lexicalWrite.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }

            await lexicalWrite;
            if (rebuild)
            {
                await RebuildLexicalAsync(connection, transaction, lexical, cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
            lexical.Commit(after);

            PatchTable(before, after, table =>
            {
                var next = 0;
                foreach (var (article, articleChunks) in chunks)
                {
                    table.RemoveArticle(article.Id);
                    var tickers = NormalizeTickers(article.Tickers);
                    foreach (var chunk in articleChunks)
                    {
                        table.Add(article.Id, chunk.N, article.PublishedAt.ToUnixTimeMilliseconds(), article.FeedId, tickers, vectors[next++]);
                    }
                }
            });
        }
        finally
        {
            _writeGate.Release();
        }
    }

    /// <summary>Deletes the articles' old chunks and inserts the new ones with their vectors (in the caller's transaction).</summary>
    private static async Task WriteChunksAsync(SqliteConnection connection, SqliteTransaction transaction,
        List<(Article Article, IReadOnlyList<ArticleChunk> Chunks)> chunks, List<float[]> vectors, CancellationToken cancellationToken)
    {
        await using var delete = connection.CreateCommand();
        delete.Transaction = transaction;
        delete.CommandText = "DELETE FROM search_chunks WHERE article_id = $article";
        var deleteArticle = delete.Parameters.Add("$article", SqliteType.Text);

        await using var insert = connection.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText = """
            INSERT INTO search_chunks (chunk_id, article_id, n, text, published_at, feed_id, tickers, vector)
            VALUES ($chunk, $article, $n, $text, $published, $feed, $tickers, $vector)
            """;
        var pChunk = insert.Parameters.Add("$chunk", SqliteType.Text);
        var pArticle = insert.Parameters.Add("$article", SqliteType.Text);
        var pN = insert.Parameters.Add("$n", SqliteType.Integer);
        var pText = insert.Parameters.Add("$text", SqliteType.Text);
        var pPublished = insert.Parameters.Add("$published", SqliteType.Integer);
        var pFeed = insert.Parameters.Add("$feed", SqliteType.Text);
        var pTickers = insert.Parameters.Add("$tickers", SqliteType.Text);
        var pVector = insert.Parameters.Add("$vector", SqliteType.Blob);

        var e = 0;
        foreach (var (article, articleChunks) in chunks)
        {
            deleteArticle.Value = article.Id;
            await delete.ExecuteNonQueryAsync(cancellationToken);
            var tickers = NormalizeTickers(article.Tickers);
            foreach (var chunk in articleChunks)
            {
                pChunk.Value = chunk.Id;
                pArticle.Value = article.Id;
                pN.Value = chunk.N;
                pText.Value = chunk.Text;
                pPublished.Value = article.PublishedAt.ToUnixTimeMilliseconds();
                pFeed.Value = article.FeedId;
                pTickers.Value = tickers.Count == 0 ? string.Empty : $"|{string.Join('|', tickers)}|";
                pVector.Value = MemoryMarshal.AsBytes(vectors[e++].AsSpan()).ToArray();
                await insert.ExecuteNonQueryAsync(cancellationToken);
            }
        }
    }

    /// <summary>The ids among <paramref name="articles"/> that have chunks in <c>search_chunks</c> (as the transaction sees it).</summary>
    private static async Task<HashSet<string>> ArticlesWithChunksAsync(SqliteConnection connection, SqliteTransaction transaction,
        IReadOnlyList<Article> articles, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT DISTINCT article_id FROM search_chunks WHERE article_id IN (SELECT value FROM json_each($ids))";
        command.Parameters.AddWithValue("$ids", JsonSerializer.Serialize(articles.Select(a => a.Id).ToArray(), SearchJsonContext.Default.StringArray));
        var ids = new HashSet<string>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            ids.Add(reader.GetString(0));
        }

        return ids;
    }

    /// <summary>
    /// Adds the chunks to the lexical writer on a pool thread: articles that had chunks (<paramref name="existing"/>),
    /// or that come twice in one batch, replace theirs; new ones are only added (a delete by term for an article the
    /// index never held costs a terms-dictionary lookup in every segment at the next flush, for nothing).
    /// </summary>
    private static Task WriteLexicalAsync(LuceneLexicalIndex.Writer writer, List<(Article Article, IReadOnlyList<ArticleChunk> Chunks)> chunks,
        HashSet<string> existing, CancellationToken cancellationToken) =>
        Task.Run(() =>
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (article, articleChunks) in chunks)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var tickers = NormalizeTickers(article.Tickers);
                var published = article.PublishedAt.ToUnixTimeMilliseconds();
                var lexicalChunks = articleChunks.Select(c => new LexicalChunk(c.Id, article.Id, published, article.FeedId, tickers, c.Text));
                if (!seen.Add(article.Id) || existing.Contains(article.Id))
                {
                    writer.Replace(article.Id, lexicalChunks);
                }
                else
                {
                    writer.Add(lexicalChunks);
                }
            }
        }, cancellationToken);

    /// <inheritdoc/>
    public async Task<IReadOnlyList<SearchHit>> SearchAsync(SearchQuery query, CancellationToken cancellationToken = default) =>
        (await ExplainAsync(query, cancellationToken)).Hits;

    /// <inheritdoc/>
    public async Task<ExplainedSearch> ExplainAsync(SearchQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfNegative(query.Limit);
        await InitializeAsync(cancellationToken);
        var fusion = _options.FusionSettings;
        if (query.Limit == 0 || string.IsNullOrWhiteSpace(query.Text))
        {
            return new ExplainedSearch([], Explain("nothing to search for", null));
        }

        var filter = new VectorFilter(
            query.Since?.ToUnixTimeMilliseconds(),
            query.Until?.ToUnixTimeMilliseconds(),
            query.Tickers is { Count: > 0 } ? NormalizeTickers(query.Tickers) : null,
            query.Sources is { Count: > 0 } ? query.Sources : null);

        var depth = HybridRanking.CandidateDepth(query.Limit);
        var generation = await ReadGenerationAsync(cancellationToken);
        List<RankedChunk> ranked;
        SearchExplanation explanation;
        switch (query.Mode)
        {
            case SearchMode.Lexical:
                ranked = _lexical.Search(query.Text, filter, depth, generation);
                explanation = Explain($"{LuceneLexicalIndex.Description} ({ranked.Count} candidates)", null);
                break;
            case SearchMode.Vector:
                ranked = await VectorAsync(query.Text, filter, depth, generation, cancellationToken);
                explanation = Explain($"{VectorDescription()} ({ranked.Count} candidates)", null);
                break;
            case SearchMode.Hybrid:
                // The two rankings are independent: the lexical one runs on another core while this one scans vectors.
                var lexicalSearch = Task.Run(() => _lexical.Search(query.Text, filter, depth, generation), cancellationToken);
                List<RankedChunk> vector;
                try
                {
                    vector = await VectorAsync(query.Text, filter, depth, generation, cancellationToken);
                }
                catch
                {
                    // Never leave the lexical search running unobserved (its own failure would go unreported).
                    await lexicalSearch.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                    throw;
                }

                var lexical = await lexicalSearch;
                ranked = HybridRanking.Fuse(lexical, vector, fusion);
                explanation = Explain(
                    $"{LuceneLexicalIndex.Description} ({lexical.Count} candidates) + {VectorDescription()} ({vector.Count} candidates), fused in process", fusion.Describe());
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(query), query.Mode, "unknown search mode");
        }

        if (_options.RecencyHalfLife is { } halfLife)
        {
            ranked = ApplyRecency(ranked, halfLife, _options.TimeProvider!.GetUtcNow());
            explanation = explanation with { Notes = [.. explanation.Notes, string.Create(CultureInfo.InvariantCulture, $"recency half-life {halfLife}")] };
        }

        // Lists are best first, so the first chunk seen of an article is its best one.
        var best = HybridRanking.BestPerArticle(ranked, query.Limit);
        var texts = await ReadTextsAsync(best.ConvertAll(h => h.ChunkId), cancellationToken);
        // A chunk replaced between ranking and reading is skipped rather than returned without text.
        var hits = best
            .Where(h => texts.ContainsKey(h.ChunkId))
            .Select(h => new SearchHit(h.ArticleId, h.ChunkId, h.Score, texts[h.ChunkId]))
            .ToList();
        return new ExplainedSearch(hits, explanation);

        SearchExplanation Explain(string path, string? fused) =>
            new("sqlite (embedded)", path, fused, [$"embedder '{_embedderName}' ({_dimensions} dims)"]);
    }

    /// <inheritdoc/>
    /// <remarks>Bumps the generation, so the in-memory vector table reloads before the next vector search.</remarks>
    public async Task DeleteAsync(IReadOnlyCollection<string> articleIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(articleIds);
        await InitializeAsync(cancellationToken);
        if (articleIds.Count == 0)
        {
            return;
        }

        await _writeGate.WaitAsync(cancellationToken);
        try
        {
            using var lexical = _lexical.OpenWriter();
            await using var connection = await OpenAsync(cancellationToken);
            await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
            var before = await ReadGenerationAsync(connection, transaction, cancellationToken);
            await using var delete = connection.CreateCommand();
            delete.Transaction = transaction;
            delete.CommandText = "DELETE FROM search_chunks WHERE article_id = $article";
            var p = delete.Parameters.Add("$article", SqliteType.Text);
            foreach (var id in articleIds)
            {
                p.Value = id;
                await delete.ExecuteNonQueryAsync(cancellationToken);
            }

            await WriteMetaAsync(connection, transaction, MetaGeneration, (before + 1).ToString(CultureInfo.InvariantCulture), cancellationToken);
            var rebuild = lexical.CommittedGeneration != before;
            if (rebuild)
            {
                await RebuildLexicalAsync(connection, transaction, lexical, cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
            if (!rebuild)
            {
                foreach (var id in articleIds)
                {
                    lexical.Delete(id);
                }
            }

            lexical.Commit(before + 1);
        }
        finally
        {
            _writeGate.Release();
        }
    }

    /// <inheritdoc/>
    /// <remarks>Also records the configured embedder, so this is the first step of a reindex after an embedder change.</remarks>
    public async Task ClearAsync(CancellationToken cancellationToken = default)
    {
        var dimensions = await ResolveDimensionsAsync(cancellationToken);
        await _writeGate.WaitAsync(cancellationToken);
        try
        {
            using var lexical = _lexical.OpenWriter();
            await using var connection = await OpenAsync(cancellationToken);
            await EnsureSchemaAsync(connection, cancellationToken);
            await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
            var before = await ReadGenerationAsync(connection, transaction, cancellationToken);

            await ExecuteAsync(connection, transaction, "DELETE FROM search_chunks;", cancellationToken);
            await WriteMetaAsync(connection, transaction, MetaEmbedder, _embedderName, cancellationToken);
            await WriteMetaAsync(connection, transaction, MetaDimensions, dimensions.ToString(CultureInfo.InvariantCulture), cancellationToken);
            var after = before + 1;
            await WriteMetaAsync(connection, transaction, MetaGeneration, after.ToString(CultureInfo.InvariantCulture), cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            lexical.DeleteAll();
            lexical.Commit(after);

            _tableLock.EnterWriteLock();
            try
            {
                _table = new VectorTable(dimensions, after);
            }
            finally
            {
                _tableLock.ExitWriteLock();
            }

            _initialized = true;
        }
        finally
        {
            _writeGate.Release();
        }
    }

    /// <inheritdoc/>
    public async Task<long> CountAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await EnsureSchemaAsync(connection, cancellationToken);
        return await CountChunksAsync(connection, null, cancellationToken);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _writeGate.Dispose();
        _initGate.Dispose();
        _loadGate.Dispose();
        _tableLock.Dispose();
        _lexical.Dispose();
    }

    private async Task<List<RankedChunk>> VectorAsync(string text, VectorFilter filter, int depth, long generation, CancellationToken cancellationToken)
    {
        var embeddings = await _embedder.GenerateAsync([text], EmbeddingInput.Query, cancellationToken);
        var query = Normalized(embeddings[0].Vector);
        if (!query.AsSpan().ContainsAnyExcept(0f))
        {
            return []; // nothing embeddable (e.g. only punctuation): every similarity would be zero
        }

        await EnsureTableAsync(generation, cancellationToken);
        _tableLock.EnterReadLock();
        try
        {
            return _table is null
                ? []
                : _table.Search(query, filter, depth, QuantizedVectorScan).ConvertAll(c => new RankedChunk(c.ArticleId, c.ChunkId, c.Score, c.PublishedMs));
        }
        finally
        {
            _tableLock.ExitReadLock();
        }
    }

    // What --explain says about the vector side: exact, or an 8-bit first pass whose candidates are ranked exactly.
    private string VectorDescription()
    {
        _tableLock.EnterReadLock();
        try
        {
            var rows = _table?.Rows ?? 0;
            return QuantizedVectorScan ?? rows > VectorTable.QuantizedThreshold
                ? "cosine scan (8-bit first pass, exact cosine for the best candidates)"
                : "exact cosine scan";
        }
        finally
        {
            _tableLock.ExitReadLock();
        }
    }

    /// <summary>Loads the vector table if it is missing or another process has written since it was loaded.</summary>
    private async Task EnsureTableAsync(long generation, CancellationToken cancellationToken)
    {
        if (CurrentTableGeneration() == generation)
        {
            return;
        }

        await _loadGate.WaitAsync(cancellationToken);
        try
        {
            if (CurrentTableGeneration() is { } loaded && loaded >= generation)
            {
                return; // another search loaded it while this one waited
            }

            await using var connection = await OpenAsync(cancellationToken);
            var table = await LoadTableAsync(connection, cancellationToken);
            _tableLock.EnterWriteLock();
            try
            {
                // A write from this process may have moved past the snapshot while loading; keep the newer table.
                if (_table is null || _table.Generation < table.Generation)
                {
                    _table = table;
                }
            }
            finally
            {
                _tableLock.ExitWriteLock();
            }
        }
        finally
        {
            _loadGate.Release();
        }
    }

    private long? CurrentTableGeneration()
    {
        _tableLock.EnterReadLock();
        try
        {
            return _table?.Generation;
        }
        finally
        {
            _tableLock.ExitReadLock();
        }
    }

    private async Task<VectorTable> LoadTableAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        // One read transaction: in WAL mode it is a snapshot, so the generation matches the rows read.
        await using var transaction = connection.BeginTransaction(deferred: true);
        var generation = await ReadGenerationAsync(connection, transaction, cancellationToken);
        var rows = (int)await CountChunksAsync(connection, transaction, cancellationToken);
        var table = new VectorTable(_dimensions, generation, rows);

        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT article_id, n, published_at, feed_id, tickers, vector FROM search_chunks ORDER BY id";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var bytes = new byte[_dimensions * sizeof(float)];
        var tickerCache = new Dictionary<string, string[]>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken))
        {
            var length = reader.GetBytes(5, 0, null, 0, 0);
            if (length != bytes.Length)
            {
                throw new InvalidOperationException(
                    $"search_chunks holds a {length / sizeof(float)}-dim vector but the index records {_dimensions} dims; run `finnews reindex`");
            }

            reader.GetBytes(5, 0, bytes, 0, bytes.Length);
            var tickerText = reader.GetString(4);
            if (!tickerCache.TryGetValue(tickerText, out var tickers))
            {
                tickers = tickerText.Split('|', StringSplitOptions.RemoveEmptyEntries);
                tickerCache[tickerText] = tickers;
            }

            table.Add(reader.GetString(0), reader.GetInt32(1), reader.GetInt64(2), reader.GetString(3), tickers, MemoryMarshal.Cast<byte, float>(bytes));
        }

        return table;
    }

    /// <summary>Applies this process's write to the loaded table, or drops the table if it was not current.</summary>
    private void PatchTable(long before, long after, Action<VectorTable> patch)
    {
        _tableLock.EnterWriteLock();
        try
        {
            if (_table is null)
            {
                return;
            }

            if (_table.Generation != before)
            {
                _table = null; // stale anyway: the next search reloads it
                return;
            }

            patch(_table);
            _table.Generation = after;
            if (_table.DeadRows >= MinDeadRowsBeforeRebuild && _table.DeadRows > _table.LiveRows)
            {
                _table = null;
            }
        }
        finally
        {
            _tableLock.ExitWriteLock();
        }
    }

    private async Task<Dictionary<string, string>> ReadTextsAsync(List<string> chunkIds, CancellationToken cancellationToken)
    {
        var texts = new Dictionary<string, string>(StringComparer.Ordinal);
        if (chunkIds.Count == 0)
        {
            return texts;
        }

        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        var names = new List<string>(chunkIds.Count);
        for (var i = 0; i < chunkIds.Count; i++)
        {
            var name = string.Create(CultureInfo.InvariantCulture, $"$c{i}");
            names.Add(name);
            command.Parameters.AddWithValue(name, chunkIds[i]);
        }

        command.CommandText = $"SELECT chunk_id, text FROM search_chunks WHERE chunk_id IN ({string.Join(", ", names)})";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            texts[reader.GetString(0)] = reader.GetString(1);
        }

        return texts;
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

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private static async Task EnsureSchemaAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        // WAL lets searches read while the indexer writes; the setting is stored in the file, so once is enough,
        // but it is cheap and idempotent. It cannot run inside a transaction.
        await ExecuteAsync(connection, null, "PRAGMA journal_mode = WAL;", cancellationToken);
        await ExecuteAsync(connection, null, Schema, cancellationToken);
        await ExecuteAsync(connection, null, DropFts5, cancellationToken);
    }

    private static async Task ExecuteAsync(SqliteConnection connection, SqliteTransaction? transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<long> CountChunksAsync(SqliteConnection connection, SqliteTransaction? transaction, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT COUNT(*) FROM search_chunks";
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    private async Task<long> ReadGenerationAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        return await ReadGenerationAsync(connection, null, cancellationToken);
    }

    /// <summary>Refills the lexical index from <c>search_chunks</c> as the transaction sees it (its caller commits it).</summary>
    private static async Task RebuildLexicalAsync(SqliteConnection connection, SqliteTransaction transaction, LuceneLexicalIndex.Writer writer, CancellationToken cancellationToken)
    {
        writer.DeleteAll();
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT chunk_id, article_id, published_at, feed_id, tickers, text FROM search_chunks ORDER BY id";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var tickerCache = new Dictionary<string, string[]>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken))
        {
            var tickerText = reader.GetString(4);
            if (!tickerCache.TryGetValue(tickerText, out var tickers))
            {
                tickers = tickerText.Split('|', StringSplitOptions.RemoveEmptyEntries);
                tickerCache[tickerText] = tickers;
            }

            writer.Add(new LexicalChunk(reader.GetString(0), reader.GetString(1), reader.GetInt64(2), reader.GetString(3), tickers, reader.GetString(5)));
        }
    }

    private static async Task<long> ReadGenerationAsync(SqliteConnection connection, SqliteTransaction? transaction, CancellationToken cancellationToken)
    {
        var value = await ReadMetaAsync(connection, transaction, MetaGeneration, cancellationToken);
        return value is null ? 0 : long.Parse(value, CultureInfo.InvariantCulture);
    }

    private static async Task<string?> ReadMetaAsync(SqliteConnection connection, SqliteTransaction? transaction, string key, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT value FROM search_meta WHERE key = $key";
        command.Parameters.AddWithValue("$key", key);
        return await command.ExecuteScalarAsync(cancellationToken) as string;
    }

    private static async Task WriteMetaAsync(SqliteConnection connection, SqliteTransaction transaction, string key, string value, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "INSERT INTO search_meta (key, value) VALUES ($key, $value) ON CONFLICT (key) DO UPDATE SET value = excluded.value";
        command.Parameters.AddWithValue("$key", key);
        command.Parameters.AddWithValue("$value", value);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Scales scores by <c>0.5^(age / halfLife)</c> and re-sorts (stable, so ties keep their order).</summary>
    private static List<RankedChunk> ApplyRecency(List<RankedChunk> ranked, TimeSpan halfLife, DateTimeOffset now)
    {
        var nowMs = now.ToUnixTimeMilliseconds();
        var halfLifeMs = halfLife.TotalMilliseconds;
        return ranked
            .Select(h => h with { Score = h.Score * RecencyFactor(nowMs - h.PublishedMs, halfLifeMs) })
            .OrderByDescending(h => h.Score)
            .ToList();
    }

    /// <summary>The decay factor for an age in milliseconds; an article from the future counts as brand new.</summary>
    internal static double RecencyFactor(double ageMs, double halfLifeMs) => Math.Pow(0.5, Math.Max(0, ageMs) / halfLifeMs);

}

/// <summary>JSON the embedded index hands to SQLite (id lists for <c>json_each</c>).</summary>
[System.Text.Json.Serialization.JsonSerializable(typeof(string[]))]
internal sealed partial class SearchJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
