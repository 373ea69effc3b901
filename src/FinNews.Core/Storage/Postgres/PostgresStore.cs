using System.Globalization;
using System.Text.Json;
using Dapper;
using FinNews.Core.Briefing;
using FinNews.Core.Feeds;
using FinNews.Core.Market;
using Npgsql;

namespace FinNews.Core.Storage.Postgres;

/// <summary>
/// The system of record on PostgreSQL (Npgsql + Dapper): feeds and fetch state, articles and stories, market bars and
/// briefings, with the same rules as <see cref="Sqlite.SqliteStore"/> for several worker and web nodes sharing one database.
/// </summary>
/// <remarks>
/// The schema is versioned (<see cref="SchemaMigrations"/>, scripts in Storage/Migrations/Postgres) and migrated by
/// <see cref="Initialize"/> under an advisory lock, so nodes starting together migrate once. Article writes of a fetch
/// or an import take a transaction-scoped advisory lock: duplicate checks by URL and content hash see every other
/// node's committed items, as SQLite's single writer does. Statements that change many existing article rows (index
/// marks, story assignments, edits, deletes) lock them in id order (<c>ORDER BY id COLLATE "C" FOR UPDATE</c>), so two of
/// them running at once on any nodes wait for each other instead of deadlocking (multi-row updates otherwise lock rows
/// in plan order, and the cluster bench hit PostgreSQL's deadlock detector with concurrent polls).
/// </remarks>
public sealed class PostgresStore : IFeedStore, IArticleStore, IMarketStore, IBriefingStore, IDisposable
{
    // Advisory lock keys (any stable 64-bit numbers): schema migration, and article writes.
    private const long MigrationLock = 0x46_694E_4E65_7701;
    private const long ArticleWriteLock = 0x46_694E_4E65_7702;
    private const long IndexQueueLock = 0x46_694E_4E65_7703;

    private readonly NpgsqlDataSource _dataSource;
    private readonly TimeProvider _time;

    /// <param name="connectionString">An Npgsql connection string (from FINNEWS_POSTGRES_CONNECTION; never from files).</param>
    /// <param name="time">The clock (migration timestamps).</param>
    public PostgresStore(string connectionString, TimeProvider time)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        _dataSource = NpgsqlDataSource.Create(connectionString);
        _time = time;
        Display = Describe(connectionString);
    }

    /// <summary>Host, port and database, for messages (never the password).</summary>
    public string Display { get; }

    /// <summary>"postgres host:port/database" from a connection string, without credentials.</summary>
    public static string Describe(string connectionString)
    {
        var b = new NpgsqlConnectionStringBuilder(connectionString);
        return string.Create(CultureInfo.InvariantCulture, $"postgres {b.Host}:{b.Port}/{b.Database}");
    }

    internal NpgsqlConnection Open() => _dataSource.OpenConnection();

    /// <summary>Applies pending schema migrations (one transaction, under an advisory lock); safe on every start.</summary>
    /// <returns>The schema version after migrating.</returns>
    public int Initialize()
    {
        using var c = Open();
        using var tx = c.BeginTransaction();
        c.Execute("SELECT pg_advisory_xact_lock(@key)", new { key = MigrationLock }, tx);
        SchemaMigrations.Apply(c, tx, SchemaMigrations.Scripts("Postgres"), _time.GetUtcNow().ToUnixTimeMilliseconds());
        var version = SchemaMigrations.CurrentVersion(c, tx);
        tx.Commit();
        return version;
    }

    public void Dispose() => _dataSource.Dispose();

    private static string EditionKey(DateOnly edition) => edition.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static void MarkSuperseded(NpgsqlConnection c, NpgsqlTransaction tx, string edition) => c.Execute("""
        UPDATE briefings SET superseded_by = newest.id
        FROM (SELECT id FROM briefings WHERE edition = @edition ORDER BY version DESC LIMIT 1) AS newest
        WHERE briefings.edition = @edition AND briefings.id <> newest.id AND briefings.superseded_by IS DISTINCT FROM newest.id
        """, new { edition }, tx);

    // ---- feeds ----

    /// <inheritdoc/>
    public void SyncFeeds(IEnumerable<FeedDefinition> feeds)
    {
        ArgumentNullException.ThrowIfNull(feeds);
        using var c = Open();
        using var tx = c.BeginTransaction();
        foreach (var f in feeds)
        {
            c.Execute("""
                INSERT INTO feeds(id, name, url) VALUES (@Id, @Name, @Url)
                ON CONFLICT(id) DO UPDATE SET name = excluded.name, url = excluded.url,
                  current_url = CASE WHEN feeds.url = excluded.url THEN feeds.current_url END,
                  etag = CASE WHEN feeds.url = excluded.url THEN feeds.etag END,
                  last_modified = CASE WHEN feeds.url = excluded.url THEN feeds.last_modified END
                WHERE feeds.origin IS NULL
                """, new { f.Id, f.Name, f.Url }, tx);
        }

        tx.Commit();
    }

    /// <inheritdoc/>
    public void SeedFeeds(IReadOnlyList<FeedDefinition> declared)
    {
        ArgumentNullException.ThrowIfNull(declared);
        using var c = Open();
        using var tx = c.BeginTransaction();
        for (var i = 0; i < declared.Count; i++)
        {
            c.Execute("""
                INSERT INTO feeds(id, name, url, interval_minutes, sample, internal, enabled, full_text, origin, position)
                VALUES (@Id, @Name, @Url, @IntervalMinutes, @Sample, @Internal, @Enabled, @FullText, 'config', @Position)
                ON CONFLICT(id) DO UPDATE SET name = excluded.name, url = excluded.url,
                  interval_minutes = excluded.interval_minutes, sample = excluded.sample, internal = excluded.internal,
                  enabled = excluded.enabled, full_text = excluded.full_text, origin = 'config', position = excluded.position,
                  added_at = NULL,
                  current_url = CASE WHEN feeds.url = excluded.url THEN feeds.current_url END,
                  etag = CASE WHEN feeds.url = excluded.url THEN feeds.etag END,
                  last_modified = CASE WHEN feeds.url = excluded.url THEN feeds.last_modified END
                """, DefinitionParams(declared[i], i), tx);
        }

        c.Execute("UPDATE feeds SET origin = NULL, position = NULL WHERE origin = 'config' AND NOT (id = ANY(@ids))",
            new { ids = declared.Select(f => f.Id).ToArray() }, tx);
        tx.Commit();
    }

    /// <inheritdoc/>
    public bool TryAddFeed(FeedDefinition feed, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(feed);
        using var c = Open();
        var p = DefinitionParams(feed, null);
        p.Add("at", at.ToUnixTimeMilliseconds());
        return c.Execute("""
            INSERT INTO feeds(id, name, url, interval_minutes, sample, internal, enabled, full_text, origin, position, added_at)
            VALUES (@Id, @Name, @Url, @IntervalMinutes, @Sample, @Internal, @Enabled, @FullText, 'added', NULL, @at)
            ON CONFLICT(id) DO UPDATE SET name = excluded.name, url = excluded.url,
              interval_minutes = excluded.interval_minutes, sample = excluded.sample, internal = excluded.internal,
              enabled = excluded.enabled, full_text = excluded.full_text, origin = 'added', position = NULL, added_at = excluded.added_at,
              current_url = NULL, etag = NULL, last_modified = NULL, last_fetch_at = NULL, last_success_at = NULL, last_error = NULL,
              error_count = 0, first_failure_at = NULL, next_poll_at = NULL, retry_after_until = NULL, paused = false, paused_reason = NULL
            WHERE feeds.origin IS NULL
            """, p) == 1;
    }

    /// <inheritdoc/>
    public FeedRemoval RemoveAddedFeed(string feedId)
    {
        using var c = Open();
        using var tx = c.BeginTransaction();
        var origin = c.QueryFirstOrDefault<string?>("SELECT origin FROM feeds WHERE id = @feedId FOR UPDATE", new { feedId }, tx);
        var result = origin switch
        {
            FeedOrigin.Added => FeedRemoval.Removed,
            FeedOrigin.Config => FeedRemoval.DeclaredInConfig,
            _ => FeedRemoval.NotFound,
        };
        if (result == FeedRemoval.Removed)
        {
            c.Execute("DELETE FROM feeds WHERE id = @feedId AND origin = 'added'", new { feedId }, tx);
        }

        tx.Commit();
        return result;
    }

    /// <inheritdoc/>
    public IReadOnlyList<StoredFeed> ListFeeds()
    {
        using var c = Open();
        return c.Query<FeedRow>("""
            SELECT * FROM feeds WHERE origin IS NOT NULL
            ORDER BY CASE origin WHEN 'config' THEN 0 ELSE 1 END, position NULLS FIRST, added_at NULLS FIRST, id COLLATE "C"
            """).Select(r => r.ToStoredFeed()).ToList();
    }

    /// <inheritdoc/>
    public StoredFeed? GetFeed(string feedId)
    {
        using var c = Open();
        return c.Query<FeedRow>("SELECT * FROM feeds WHERE id = @feedId AND origin IS NOT NULL", new { feedId })
            .Select(r => r.ToStoredFeed()).SingleOrDefault();
    }

    private static DynamicParameters DefinitionParams(FeedDefinition f, int? position)
    {
        var p = new DynamicParameters();
        p.Add("Id", f.Id);
        p.Add("Name", f.Name);
        p.Add("Url", f.Url);
        p.Add("IntervalMinutes", f.IntervalMinutes);
        p.Add("Sample", f.Sample);
        p.Add("Internal", f.Internal);
        p.Add("Enabled", f.Enabled);
        p.Add("FullText", f.FullText);
        p.Add("Position", position, System.Data.DbType.Int32);
        return p;
    }

    /// <inheritdoc/>
    public FeedState? GetFeedState(string feedId)
    {
        using var c = Open();
        return c.Query<FeedRow>("SELECT * FROM feeds WHERE id = @feedId", new { feedId }).Select(r => r.ToState()).SingleOrDefault();
    }

    /// <inheritdoc/>
    public IReadOnlyList<FeedState> ListFeedStates()
    {
        using var c = Open();
        return c.Query<FeedRow>("SELECT * FROM feeds ORDER BY id COLLATE \"C\"").Select(r => r.ToState()).ToList();
    }

    /// <inheritdoc/>
    public void RecordFeedError(string feedId, string error, DateTimeOffset at)
    {
        using var c = Open();
        c.Execute("""
            UPDATE feeds SET last_fetch_at = @at, last_error = @error, error_count = error_count + 1,
              first_failure_at = COALESCE(first_failure_at, @at)
            WHERE id = @feedId
            """, new { feedId, error, at = at.ToUnixTimeMilliseconds() });
    }

    /// <inheritdoc/>
    public void RecordFeedFailure(string feedId, string error, DateTimeOffset at, FeedFailurePlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        using var c = Open();
        var p = new DynamicParameters();
        p.Add("feedId", feedId);
        p.Add("error", error);
        p.Add("at", at.ToUnixTimeMilliseconds());
        p.Add("ErrorCount", plan.ErrorCount);
        p.Add("FirstFailureAt", plan.FirstFailureAt.ToUnixTimeMilliseconds());
        p.Add("NextPollAt", plan.NextPollAt.ToUnixTimeMilliseconds());
        p.Add("RetryAfterUntil", plan.RetryAfterUntil?.ToUnixTimeMilliseconds(), System.Data.DbType.Int64);
        p.Add("PausedReason", plan.PausedReason, System.Data.DbType.String);
        c.Execute("""
            UPDATE feeds SET last_fetch_at = @at, last_error = @error, error_count = @ErrorCount,
              first_failure_at = @FirstFailureAt, next_poll_at = @NextPollAt, retry_after_until = @RetryAfterUntil,
              paused = CASE WHEN @PausedReason::text IS NULL THEN paused ELSE true END,
              paused_reason = COALESCE(@PausedReason::text, paused_reason)
            WHERE id = @feedId
            """, p);
    }

    /// <inheritdoc/>
    public bool PauseFeed(string feedId, string reason)
    {
        using var c = Open();
        return c.Execute("UPDATE feeds SET paused = true, paused_reason = @reason WHERE id = @feedId", new { feedId, reason }) > 0;
    }

    /// <inheritdoc/>
    public bool ResumeFeed(string feedId)
    {
        using var c = Open();
        return c.Execute("""
            UPDATE feeds SET paused = false, paused_reason = NULL, error_count = 0, first_failure_at = NULL,
              next_poll_at = NULL, retry_after_until = NULL
            WHERE id = @feedId
            """, new { feedId }) > 0;
    }

    /// <inheritdoc/>
    public IngestCounts CommitFetch(string feedId, IReadOnlyList<Article> articles, string? etag, string? lastModified, DateTimeOffset at) =>
        CommitFetch(feedId, articles, etag, lastModified, at, null, null);

    /// <inheritdoc/>
    public IngestCounts CommitFetch(string feedId, IReadOnlyList<Article> articles, string? etag, string? lastModified, DateTimeOffset at,
        DateTimeOffset? nextPollAt, string? currentUrl)
    {
        ArgumentNullException.ThrowIfNull(articles);
        using var c = Open();
        using var tx = c.BeginTransaction();
        var counts = StoreArticles(c, tx, articles);
        var p = new DynamicParameters();
        p.Add("feedId", feedId);
        p.Add("etag", etag, System.Data.DbType.String);
        p.Add("lastModified", lastModified, System.Data.DbType.String);
        p.Add("at", at.ToUnixTimeMilliseconds());
        p.Add("inserted", counts.Inserted);
        p.Add("next", nextPollAt?.ToUnixTimeMilliseconds(), System.Data.DbType.Int64);
        p.Add("currentUrl", currentUrl, System.Data.DbType.String);
        c.Execute("""
            UPDATE feeds SET etag = @etag, last_modified = @lastModified, last_fetch_at = @at, last_success_at = @at,
              last_error = NULL, error_count = 0, items_total = items_total + @inserted,
              first_failure_at = NULL, retry_after_until = NULL, next_poll_at = @next,
              current_url = COALESCE(@currentUrl, current_url)
            WHERE id = @feedId
            """, p, tx);
        tx.Commit();
        return counts;
    }

    /// <inheritdoc/>
    public IngestCounts ImportArticles(IReadOnlyList<Article> articles)
    {
        ArgumentNullException.ThrowIfNull(articles);
        using var c = Open();
        using var tx = c.BeginTransaction();
        var counts = StoreArticles(c, tx, articles);
        tx.Commit();
        return counts;
    }

    // The same rules as SqliteStore: new items inserted; a known id with other content is an edit (text replaced,
    // identity and first-seen kept, re-indexed); the same id, URL or content elsewhere is a duplicate. Items are decided
    // in order against what is stored plus the items before them, as SqliteStore does row by row; here the stored side
    // is read in two queries and the writes go in two statements, so a fetch costs a few round trips, not three per item.
    private static IngestCounts StoreArticles(NpgsqlConnection c, NpgsqlTransaction tx, IReadOnlyList<Article> articles)
    {
        // One article writer at a time across nodes, so the URL and hash checks below see every committed item.
        c.Execute("SELECT pg_advisory_xact_lock(@key)", new { key = ArticleWriteLock }, tx);
        if (articles.Count == 0)
        {
            return new IngestCounts(0, 0, 0);
        }

        var hashById = c.Query<(string Id, string Hash)>("SELECT id AS Id, content_hash AS Hash FROM articles WHERE id = ANY(@ids)",
            new { ids = articles.Select(a => a.Id).Distinct(StringComparer.Ordinal).ToArray() }, tx).ToDictionary(r => r.Id, r => r.Hash, StringComparer.Ordinal);
        var urls = new HashSet<string>(StringComparer.Ordinal);
        var hashes = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (url, hash) in c.Query<(string Url, string Hash)>("SELECT url AS Url, content_hash AS Hash FROM articles WHERE url = ANY(@urls) OR content_hash = ANY(@hashes)",
            new { urls = articles.Select(a => a.Url).Distinct(StringComparer.Ordinal).ToArray(), hashes = articles.Select(a => a.ContentHash).Distinct(StringComparer.Ordinal).ToArray() }, tx))
        {
            urls.Add(url);
            hashes[hash] = hashes.GetValueOrDefault(hash) + 1;
        }

        var inserts = new List<Article>();
        var edits = new Dictionary<string, Article>(StringComparer.Ordinal);
        int duplicates = 0, updated = 0;
        foreach (var a in articles)
        {
            if (hashById.TryGetValue(a.Id, out var stored))
            {
                if (stored == a.ContentHash)
                {
                    duplicates++;
                    continue;
                }

                // The publisher edited the item: keep its identity and first-seen time, take the new text, re-index.
                hashes[stored] = Math.Max(0, hashes.GetValueOrDefault(stored) - 1);
                hashes[a.ContentHash] = hashes.GetValueOrDefault(a.ContentHash) + 1;
                hashById[a.Id] = a.ContentHash;
                if (inserts.FindIndex(i => i.Id == a.Id) is var pending and >= 0)
                {
                    inserts[pending] = inserts[pending] with
                    {
                        Title = a.Title, Summary = a.Summary, Body = a.Body, Tickers = a.Tickers, Authors = a.Authors, Categories = a.Categories,
                        ContentHash = a.ContentHash, Repaired = a.Repaired,
                    };
                }
                else
                {
                    edits[a.Id] = a;
                }

                updated++;
                continue;
            }

            if (urls.Contains(a.Url) || hashes.GetValueOrDefault(a.ContentHash) > 0)
            {
                duplicates++;
                continue;
            }

            inserts.Add(a);
            hashById[a.Id] = a.ContentHash;
            urls.Add(a.Url);
            hashes[a.ContentHash] = hashes.GetValueOrDefault(a.ContentHash) + 1;
        }

        if (edits.Count > 0)
        {
            var e = edits.Values.ToList();
            c.Execute("""SELECT 1 FROM articles WHERE id = ANY(@ids) ORDER BY id COLLATE "C" FOR UPDATE""", new { ids = e.Select(a => a.Id).ToArray() }, tx);
            c.Execute("""
                UPDATE articles SET title = u.title, summary = u.summary, body = u.body, tickers = u.tickers::jsonb, authors = u.authors::jsonb,
                  categories = u.categories::jsonb, content_hash = u.content_hash, repaired = u.repaired, indexed = false
                FROM unnest(@ids::text[], @titles::text[], @summaries::text[], @bodies::text[], @tickers::text[], @authors::text[],
                            @categories::text[], @hashes::text[], @repaired::boolean[])
                  AS u(id, title, summary, body, tickers, authors, categories, content_hash, repaired)
                WHERE articles.id = u.id
                """, new
            {
                ids = e.Select(a => a.Id).ToArray(),
                titles = e.Select(a => a.Title).ToArray(),
                summaries = e.Select(a => a.Summary).ToArray(),
                bodies = e.Select(a => a.Body).ToArray(),
                tickers = e.Select(a => Json(a.Tickers)).ToArray(),
                authors = e.Select(a => Json(a.Authors)).ToArray(),
                categories = e.Select(a => Json(a.Categories)).ToArray(),
                hashes = e.Select(a => a.ContentHash).ToArray(),
                repaired = e.Select(a => a.Repaired).ToArray(),
            }, tx);
        }

        if (inserts.Count > 0)
        {
            c.Execute("""
                INSERT INTO articles(id, feed_id, outlet, title, url, summary, body, published_at, first_seen_at,
                  published_fallback, tickers, authors, categories, content_hash, repaired, backfilled, indexed)
                SELECT id, feed_id, outlet, title, url, summary, body, published_at, first_seen_at,
                  published_fallback, tickers::jsonb, authors::jsonb, categories::jsonb, content_hash, repaired, backfilled, false
                FROM unnest(@ids::text[], @feeds::text[], @outlets::text[], @titles::text[], @urls::text[], @summaries::text[], @bodies::text[],
                            @published::bigint[], @seen::bigint[], @fallback::boolean[], @tickers::text[], @authors::text[], @categories::text[],
                            @hashes::text[], @repaired::boolean[], @backfilled::boolean[])
                  AS u(id, feed_id, outlet, title, url, summary, body, published_at, first_seen_at, published_fallback, tickers, authors,
                       categories, content_hash, repaired, backfilled)
                """, new
            {
                ids = inserts.Select(a => a.Id).ToArray(),
                feeds = inserts.Select(a => a.FeedId).ToArray(),
                outlets = inserts.Select(a => a.Outlet).ToArray(),
                titles = inserts.Select(a => a.Title).ToArray(),
                urls = inserts.Select(a => a.Url).ToArray(),
                summaries = inserts.Select(a => a.Summary).ToArray(),
                bodies = inserts.Select(a => a.Body).ToArray(),
                published = inserts.Select(a => a.PublishedAt.ToUnixTimeMilliseconds()).ToArray(),
                seen = inserts.Select(a => a.FirstSeenAt.ToUnixTimeMilliseconds()).ToArray(),
                fallback = inserts.Select(a => a.PublishedIsFallback).ToArray(),
                tickers = inserts.Select(a => Json(a.Tickers)).ToArray(),
                authors = inserts.Select(a => Json(a.Authors)).ToArray(),
                categories = inserts.Select(a => Json(a.Categories)).ToArray(),
                hashes = inserts.Select(a => a.ContentHash).ToArray(),
                repaired = inserts.Select(a => a.Repaired).ToArray(),
                backfilled = inserts.Select(a => a.Backfilled).ToArray(),
            }, tx);
        }

        return new IngestCounts(inserts.Count, updated, duplicates);
    }

    private static string Json(IReadOnlyList<string> values) => JsonSerializer.Serialize(values, StorageJsonContext.Default.IReadOnlyListString);

    /// <inheritdoc/>
    public void RecordNotModified(string feedId, DateTimeOffset at) => RecordNotModified(feedId, at, null, null);

    /// <inheritdoc/>
    public void RecordNotModified(string feedId, DateTimeOffset at, DateTimeOffset? nextPollAt, string? currentUrl)
    {
        using var c = Open();
        var p = new DynamicParameters();
        p.Add("feedId", feedId);
        p.Add("at", at.ToUnixTimeMilliseconds());
        p.Add("next", nextPollAt?.ToUnixTimeMilliseconds(), System.Data.DbType.Int64);
        p.Add("currentUrl", currentUrl, System.Data.DbType.String);
        c.Execute("""
            UPDATE feeds SET last_fetch_at = @at, last_success_at = @at, last_error = NULL, error_count = 0,
              first_failure_at = NULL, retry_after_until = NULL, next_poll_at = @next,
              current_url = COALESCE(@currentUrl, current_url)
            WHERE id = @feedId
            """, p);
    }

    // ---- articles ----

    private const string ArticleColumns = "articles.*, COALESCE((SELECT sample FROM feeds WHERE feeds.id = articles.feed_id), false) AS sample";

    /// <inheritdoc/>
    public Article? GetArticle(string id)
    {
        using var c = Open();
        return c.Query<ArticleRow>($"SELECT {ArticleColumns} FROM articles WHERE id = @id", new { id }).Select(r => r.ToArticle()).SingleOrDefault();
    }

    /// <inheritdoc/>
    public IReadOnlyList<Article> GetArticles(IEnumerable<string> ids)
    {
        using var c = Open();
        return c.Query<ArticleRow>($"SELECT {ArticleColumns} FROM articles WHERE id = ANY(@ids)", new { ids = ids.ToArray() })
            .Select(r => r.ToArticle()).ToList();
    }

    /// <inheritdoc/>
    public IReadOnlyList<Article> ArticlesInWindow(DateTimeOffset from, DateTimeOffset to, DateTimeOffset? knownBefore = null, int limit = 5000)
    {
        using var c = Open();
        return c.Query<ArticleRow>($"""
            SELECT {ArticleColumns} FROM articles WHERE published_at >= @from AND published_at < @to AND first_seen_at <= @known
            ORDER BY published_at DESC LIMIT @limit
            """, new { from = from.ToUnixTimeMilliseconds(), to = to.ToUnixTimeMilliseconds(), known = (knownBefore ?? to).ToUnixTimeMilliseconds(), limit })
            .Select(r => r.ToArticle()).ToList();
    }

    /// <inheritdoc/>
    public IReadOnlyList<Article> ArticlesTagged(string symbol, DateTimeOffset knownBefore, int limit = 10)
    {
        using var c = Open();
        return c.Query<ArticleRow>($"""
            SELECT {ArticleColumns} FROM articles
            WHERE first_seen_at <= @known AND published_at <= @known AND tickers @> jsonb_build_array(@symbol::text)
            ORDER BY published_at DESC, id COLLATE "C" LIMIT @limit
            """, new { symbol, known = knownBefore.ToUnixTimeMilliseconds(), limit })
            .Select(r => r.ToArticle()).ToList();
    }

    /// <inheritdoc/>
    public DateTimeOffset? LatestPublished(DateTimeOffset knownBefore)
    {
        using var c = Open();
        var ms = c.ExecuteScalar<long?>("SELECT MAX(published_at) FROM articles WHERE first_seen_at <= @known AND published_at < @known",
            new { known = knownBefore.ToUnixTimeMilliseconds() });
        return ms is { } v ? DateTimeOffset.FromUnixTimeMilliseconds(v) : null;
    }

    /// <inheritdoc/>
    public long CountArticles()
    {
        using var c = Open();
        return c.ExecuteScalar<long>("SELECT COUNT(*) FROM articles");
    }

    /// <inheritdoc/>
    public IReadOnlyDictionary<string, long> ArticleCountsByFeed(DateTimeOffset since)
    {
        using var c = Open();
        return c.Query<(string FeedId, long Count)>("SELECT feed_id AS FeedId, COUNT(*) AS Count FROM articles WHERE first_seen_at >= @since GROUP BY feed_id",
            new { since = since.ToUnixTimeMilliseconds() }).ToDictionary(r => r.FeedId, r => r.Count, StringComparer.Ordinal);
    }

    /// <inheritdoc/>
    public IReadOnlyList<Article> UnindexedArticles(int batchSize)
    {
        using var c = Open();
        return c.Query<ArticleRow>($"SELECT {ArticleColumns} FROM articles WHERE NOT indexed ORDER BY first_seen_at, id COLLATE \"C\" LIMIT @batchSize", new { batchSize })
            .Select(r => r.ToArticle()).ToList();
    }

    /// <inheritdoc/>
    public async Task<IAsyncDisposable?> LockIndexQueueAsync(bool wait, CancellationToken cancellationToken = default)
    {
        var c = await _dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            if (wait)
            {
                await c.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_lock(@key)", new { key = IndexQueueLock }, cancellationToken: cancellationToken));
            }
            else if (!await c.ExecuteScalarAsync<bool>(new CommandDefinition("SELECT pg_try_advisory_lock(@key)", new { key = IndexQueueLock }, cancellationToken: cancellationToken)))
            {
                await c.DisposeAsync();
                return null;
            }

            return new SessionLock(c, IndexQueueLock);
        }
        catch
        {
            await c.DisposeAsync();
            throw;
        }
    }

    /// <summary>A session advisory lock held on its own connection until disposed.</summary>
    private sealed class SessionLock(NpgsqlConnection connection, long key) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try
            {
                await connection.ExecuteAsync("SELECT pg_advisory_unlock(@key)", new { key });
            }
            finally
            {
                // Closing ends the session's hold in any case (the pool resets the connection).
                await connection.DisposeAsync();
            }
        }
    }

    /// <inheritdoc/>
    public int MarkIndexed(IReadOnlyCollection<(string Id, string ContentHash)> indexed)
    {
        ArgumentNullException.ThrowIfNull(indexed);
        using var c = Open();
        return c.Execute("""
            UPDATE articles SET indexed = true
            FROM (SELECT a.id FROM articles a JOIN unnest(@ids::text[], @hashes::text[]) AS u(id, content_hash)
                    ON a.id = u.id AND a.content_hash = u.content_hash
                  ORDER BY a.id COLLATE "C" FOR UPDATE OF a) AS m
            WHERE articles.id = m.id
            """, new { ids = indexed.Select(a => a.Id).ToArray(), hashes = indexed.Select(a => a.ContentHash).ToArray() });
    }

    /// <inheritdoc/>
    public void MarkAllUnindexed()
    {
        using var c = Open();
        c.Execute("UPDATE articles SET indexed = false");
    }

    /// <inheritdoc/>
    public IReadOnlyList<string> ArticleIdsPublishedBefore(DateTimeOffset cutoff, int limit = 50_000)
    {
        using var c = Open();
        return c.Query<string>("SELECT id FROM articles WHERE published_at < @cutoff ORDER BY published_at LIMIT @limit",
            new { cutoff = cutoff.ToUnixTimeMilliseconds(), limit }).ToList();
    }

    /// <inheritdoc/>
    public int DeleteArticles(IReadOnlyCollection<string> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        using var c = Open();
        using var tx = c.BeginTransaction();
        var n = 0;
        foreach (var batch in ids.Chunk(1000))
        {
            n += c.Execute("""
                DELETE FROM articles WHERE id IN (SELECT id FROM articles WHERE id = ANY(@batch) ORDER BY id COLLATE "C" FOR UPDATE)
                """, new { batch }, tx);
        }

        tx.Commit();
        return n;
    }

    /// <inheritdoc/>
    public IReadOnlyDictionary<string, string> ClusterIds(IEnumerable<string> articleIds)
    {
        using var c = Open();
        return c.Query<(string Id, string Cluster)>("SELECT id AS Id, cluster_id AS Cluster FROM articles WHERE cluster_id IS NOT NULL AND id = ANY(@ids)",
            new { ids = articleIds.ToArray() }).ToDictionary(r => r.Id, r => r.Cluster, StringComparer.Ordinal);
    }

    /// <inheritdoc/>
    public void AssignClusters(IEnumerable<(string ArticleId, string ClusterId)> assignments)
    {
        ArgumentNullException.ThrowIfNull(assignments);
        var list = assignments.ToList();
        if (list.Count == 0)
        {
            return;
        }

        // One statement, its rows locked in id order (see LockInIdOrder).
        using var c = Open();
        c.Execute("""
            UPDATE articles SET cluster_id = m.cluster_id
            FROM (SELECT a.id, u.cluster_id FROM articles a JOIN unnest(@ids::text[], @clusters::text[]) AS u(id, cluster_id) ON a.id = u.id
                  WHERE a.cluster_id IS DISTINCT FROM u.cluster_id ORDER BY a.id COLLATE "C" FOR UPDATE OF a) AS m
            WHERE articles.id = m.id
            """, new { ids = list.Select(a => a.ArticleId).ToArray(), clusters = list.Select(a => a.ClusterId).ToArray() });
    }

    /// <inheritdoc/>
    public IReadOnlyList<StoryRow> ListStories(DateTimeOffset since, int limit = 200)
    {
        using var c = Open();
        var rows = c.Query<ArticleRow>($"""
            SELECT {ArticleColumns} FROM articles WHERE cluster_id IN
              (SELECT DISTINCT cluster_id FROM articles WHERE cluster_id IS NOT NULL AND published_at >= @since)
            ORDER BY published_at
            """, new { since = since.ToUnixTimeMilliseconds() });
        var byCluster = new Dictionary<string, List<Article>>(StringComparer.Ordinal);
        foreach (var row in rows)
        {
            if (!byCluster.TryGetValue(row.cluster_id!, out var list))
            {
                byCluster[row.cluster_id!] = list = [];
            }

            list.Add(row.ToArticle());
        }

        return byCluster.Select(kv => new StoryRow(kv.Key, kv.Value))
            .OrderByDescending(s => s.Outlets.Count).ThenByDescending(s => s.LastPublished).ThenBy(s => s.ClusterId, StringComparer.Ordinal)
            .Take(limit).ToList();
    }

    /// <inheritdoc/>
    public IReadOnlyList<Article> StoryArticles(string clusterId)
    {
        using var c = Open();
        return c.Query<ArticleRow>($"SELECT {ArticleColumns} FROM articles WHERE cluster_id = @clusterId ORDER BY published_at, id COLLATE \"C\"", new { clusterId })
            .Select(r => r.ToArticle()).ToList();
    }

    /// <inheritdoc/>
    public IReadOnlyList<(string Id, DateTimeOffset FirstSeenAt)> ArticleKeysAfter(DateTimeOffset afterFirstSeen, string afterId, int limit)
    {
        using var c = Open();
        return c.Query<(string Id, long FirstSeen)>("""
            SELECT id AS Id, first_seen_at AS FirstSeen FROM articles
            WHERE first_seen_at > @seen OR (first_seen_at = @seen AND id COLLATE "C" > @afterId)
            ORDER BY first_seen_at, id COLLATE "C" LIMIT @limit
            """, new { seen = afterFirstSeen.ToUnixTimeMilliseconds(), afterId, limit })
            .Select(r => (r.Id, DateTimeOffset.FromUnixTimeMilliseconds(r.FirstSeen))).ToList();
    }

    // ---- market bars ----

    /// <inheritdoc/>
    public int UpsertBars(IEnumerable<DailyBar> bars)
    {
        ArgumentNullException.ThrowIfNull(bars);
        using var c = Open();
        using var tx = c.BeginTransaction();
        var n = 0;
        foreach (var b in bars)
        {
            n += c.Execute("""
                INSERT INTO market_bars(symbol, date, open, high, low, close, volume, source, flags, sample)
                VALUES (@Symbol, @Date::date, @Open, @High, @Low, @Close, @Volume, @Source, @Flags, @Sample)
                ON CONFLICT(symbol, date) DO UPDATE SET open = excluded.open, high = excluded.high, low = excluded.low,
                  close = excluded.close, volume = excluded.volume, source = excluded.source, flags = excluded.flags, sample = excluded.sample
                """, new
            {
                b.Symbol,
                Date = b.Date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                // double precision, as SQLite's REAL: both backends return the same figures.
                Open = (double)b.Open,
                High = (double)b.High,
                Low = (double)b.Low,
                Close = (double)b.Close,
                b.Volume,
                b.Source,
                Flags = string.Join(',', b.Flags),
                b.Sample,
            }, tx);
        }

        tx.Commit();
        return n;
    }

    /// <inheritdoc/>
    public IReadOnlyList<DailyBar> GetBars(string symbol, DateOnly onOrBefore, int limit = 30)
    {
        using var c = Open();
        // DateOnly.MaxValue (year 9999) is within PostgreSQL's date range.
        return c.Query<BarRow>("""
            SELECT symbol, to_char(date, 'YYYY-MM-DD') AS date, open, high, low, close, volume, source, flags, sample
            FROM market_bars WHERE symbol = @symbol AND date <= @d::date ORDER BY date DESC LIMIT @limit
            """, new { symbol, d = onOrBefore.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), limit })
            .Select(r => r.ToBar()).ToList();
    }

    /// <inheritdoc/>
    public IReadOnlyList<string> BarSymbols()
    {
        using var c = Open();
        return c.Query<string>("SELECT DISTINCT symbol COLLATE \"C\" AS symbol FROM market_bars ORDER BY 1").ToList();
    }

    // ---- briefings ----

    /// <inheritdoc/>
    public void SaveBriefing(BriefingDocument briefing)
    {
        ArgumentNullException.ThrowIfNull(briefing);
        using var c = Open();
        using var tx = c.BeginTransaction();
        var edition = EditionKey(briefing.Edition);
        // Versions of one edition are numbered under a lock on the edition, so two nodes never take the same number.
        c.Execute("SELECT pg_advisory_xact_lock(hashtext(@edition))", new { edition }, tx);
        c.Execute("""
            INSERT INTO briefings(id, created_at, window_start, window_end, title, writer, json, as_of, edition, version)
            VALUES (@Id, @CreatedAt, @WindowStart, @WindowEnd, @Title, @Writer, @Json, @AsOf, @Edition,
                    (SELECT COALESCE(MAX(version), 0) + 1 FROM briefings WHERE edition = @Edition))
            ON CONFLICT(id) DO UPDATE SET json = excluded.json, title = excluded.title, writer = excluded.writer
            """, new
        {
            briefing.Id,
            CreatedAt = briefing.CreatedAt.ToUnixTimeMilliseconds(),
            WindowStart = briefing.WindowStart.ToUnixTimeMilliseconds(),
            WindowEnd = briefing.WindowEnd.ToUnixTimeMilliseconds(),
            briefing.Title,
            briefing.Writer,
            Json = JsonSerializer.Serialize(briefing, BriefingJsonContext.Default.BriefingDocument),
            AsOf = briefing.CoveredUntil.ToUnixTimeMilliseconds(),
            Edition = edition,
        }, tx);
        MarkSuperseded(c, tx, edition);
        tx.Commit();
    }

    /// <inheritdoc/>
    public BriefingDocument? GetBriefing(string id)
    {
        using var c = Open();
        var json = c.ExecuteScalar<string?>("SELECT json FROM briefings WHERE id = @id", new { id });
        return json is null ? null : JsonSerializer.Deserialize(json, BriefingJsonContext.Default.BriefingDocument);
    }

    /// <inheritdoc/>
    public BriefingDocument? LatestBriefing() =>
        LatestBriefingJson() is { } json ? JsonSerializer.Deserialize(json, BriefingJsonContext.Default.BriefingDocument) : null;

    /// <inheritdoc/>
    public string? LatestBriefingJson()
    {
        using var c = Open();
        return c.ExecuteScalar<string?>("""
            SELECT json FROM briefings WHERE superseded_by IS NULL
            ORDER BY edition DESC, version DESC, created_at DESC, id COLLATE "C" DESC LIMIT 1
            """);
    }

    /// <inheritdoc/>
    public IReadOnlyList<BriefingSummary> ListBriefings(int skip, int take, bool allVersions = false)
    {
        using var c = Open();
        return c.Query<SummaryRow>($"""
            SELECT id AS Id, created_at AS CreatedAt, window_start AS WindowStart, window_end AS WindowEnd, title AS Title, writer AS Writer,
                   as_of AS AsOf, edition AS Edition, version::bigint AS Version, superseded_by AS SupersededBy
            FROM briefings {(allVersions ? "" : "WHERE superseded_by IS NULL")}
            ORDER BY edition DESC, version DESC, created_at DESC, id COLLATE "C" DESC LIMIT @take OFFSET @skip
            """, new { skip, take })
            .Select(r => r.ToSummary())
            .ToList();
    }

    /// <inheritdoc/>
    public IReadOnlyList<BriefingSummary> BriefingVersions(DateOnly edition)
    {
        using var c = Open();
        return c.Query<SummaryRow>("""
            SELECT id AS Id, created_at AS CreatedAt, window_start AS WindowStart, window_end AS WindowEnd, title AS Title, writer AS Writer,
                   as_of AS AsOf, edition AS Edition, version::bigint AS Version, superseded_by AS SupersededBy
            FROM briefings WHERE edition = @edition ORDER BY version DESC
            """, new { edition = EditionKey(edition) })
            .Select(r => r.ToSummary())
            .ToList();
    }

    private sealed record SummaryRow(string Id, long CreatedAt, long WindowStart, long WindowEnd, string Title, string Writer, long AsOf,
        string Edition, long Version, string? SupersededBy)
    {
        public BriefingSummary ToSummary() => new(Id, DateTimeOffset.FromUnixTimeMilliseconds(CreatedAt),
            DateTimeOffset.FromUnixTimeMilliseconds(WindowStart), DateTimeOffset.FromUnixTimeMilliseconds(WindowEnd), Title, Writer,
            DateTimeOffset.FromUnixTimeMilliseconds(AsOf), Edition, (int)Version, SupersededBy);
    }

    /// <inheritdoc/>
    public bool ApproveBriefing(string id, string approvedBy, DateTimeOffset at)
    {
        using var c = Open();
        return c.Execute("UPDATE briefings SET approved_at = @at, approved_by = @approvedBy WHERE id = @id",
            new { id, approvedBy, at = at.ToUnixTimeMilliseconds() }) > 0;
    }

    /// <inheritdoc/>
    public (DateTimeOffset At, string By)? Approval(string id)
    {
        using var c = Open();
        var row = c.QueryFirstOrDefault<(long? At, string? By)>("SELECT approved_at AS At, approved_by AS By FROM briefings WHERE id = @id", new { id });
        return row.At is { } at ? (DateTimeOffset.FromUnixTimeMilliseconds(at), row.By ?? "") : null;
    }

    /// <inheritdoc/>
    public IReadOnlyList<ApprovedBriefing> ApprovedBriefings()
    {
        using var c = Open();
        // Ordered as SQLite orders them: id in binary (C) collation, not the database's locale.
        return c.Query<(string Json, long At, string? By, bool Edited)>("""
            SELECT json AS Json, approved_at AS At, approved_by AS By, original_json IS NOT NULL AS Edited
            FROM briefings WHERE approved_at IS NOT NULL ORDER BY as_of, created_at, id COLLATE "C"
            """)
            .Select(r => new ApprovedBriefing(JsonSerializer.Deserialize(r.Json, BriefingJsonContext.Default.BriefingDocument)!,
                DateTimeOffset.FromUnixTimeMilliseconds(r.At), r.By ?? "", r.Edited))
            .ToList();
    }

    /// <inheritdoc/>
    public void SaveEditedBriefing(BriefingDocument edited)
    {
        ArgumentNullException.ThrowIfNull(edited);
        using var c = Open();
        c.Execute("""
            UPDATE briefings SET original_json = COALESCE(original_json, json), json = @Json, approved_at = NULL, approved_by = NULL WHERE id = @Id
            """, new { edited.Id, Json = JsonSerializer.Serialize(edited, BriefingJsonContext.Default.BriefingDocument) });
    }

    /// <inheritdoc/>
    public long CountBriefings(bool allVersions = false)
    {
        using var c = Open();
        return c.ExecuteScalar<long>(allVersions ? "SELECT COUNT(*) FROM briefings" : "SELECT COUNT(*) FROM briefings WHERE superseded_by IS NULL");
    }

#pragma warning disable CA1812, IDE1006 // Rows are instantiated by Dapper; property names mirror the snake_case columns.
    private sealed class ArticleRow
    {
        public string id { get; set; } = "";
        public string feed_id { get; set; } = "";
        public string outlet { get; set; } = "";
        public string title { get; set; } = "";
        public string url { get; set; } = "";
        public string summary { get; set; } = "";
        public string body { get; set; } = "";
        public long published_at { get; set; }
        public long first_seen_at { get; set; }
        public bool published_fallback { get; set; }
        public string tickers { get; set; } = "[]";
        public string authors { get; set; } = "[]";
        public string categories { get; set; } = "[]";
        public string content_hash { get; set; } = "";
        public bool repaired { get; set; }
        public bool backfilled { get; set; }
        public bool indexed { get; set; }
        public string? cluster_id { get; set; }
        public bool sample { get; set; }

        public Article ToArticle() => new(id, feed_id, outlet, title, url, summary, body,
            DateTimeOffset.FromUnixTimeMilliseconds(published_at), DateTimeOffset.FromUnixTimeMilliseconds(first_seen_at),
            published_fallback, List(tickers), List(authors), List(categories), content_hash, repaired, sample, backfilled);

        private static IReadOnlyList<string> List(string json) =>
            JsonSerializer.Deserialize(json, StorageJsonContext.Default.IReadOnlyListString) ?? [];
    }

    private sealed class FeedRow
    {
        public string id { get; set; } = "";
        public string name { get; set; } = "";
        public string url { get; set; } = "";
        public string? etag { get; set; }
        public string? last_modified { get; set; }
        public long? last_fetch_at { get; set; }
        public long? last_success_at { get; set; }
        public string? last_error { get; set; }
        public int error_count { get; set; }
        public long items_total { get; set; }
        public string? current_url { get; set; }
        public long? next_poll_at { get; set; }
        public long? first_failure_at { get; set; }
        public long? retry_after_until { get; set; }
        public bool paused { get; set; }
        public string? paused_reason { get; set; }
        public string? origin { get; set; }
        public int interval_minutes { get; set; } = 30;
        public bool sample { get; set; }
        public bool @internal { get; set; }
        public bool enabled { get; set; } = true;
        public bool full_text { get; set; }
        public int? position { get; set; }
        public long? added_at { get; set; }

        public StoredFeed ToStoredFeed() => new(
            new FeedDefinition(id, name, url, interval_minutes, sample, @internal, enabled, full_text),
            origin ?? "", Time(added_at));

        public FeedState ToState() => new(id, name, url, etag, last_modified, Time(last_fetch_at), Time(last_success_at),
            last_error, error_count, items_total)
        {
            CurrentUrl = current_url,
            NextPollAt = Time(next_poll_at),
            FirstFailureAt = Time(first_failure_at),
            RetryAfterUntil = Time(retry_after_until),
            Paused = paused,
            PausedReason = paused_reason,
        };

        private static DateTimeOffset? Time(long? ms) => ms is { } v ? DateTimeOffset.FromUnixTimeMilliseconds(v) : null;
    }

    private sealed class BarRow
    {
        public string symbol { get; set; } = "";
        public string date { get; set; } = "";
        public double open { get; set; }
        public double high { get; set; }
        public double low { get; set; }
        public double close { get; set; }
        public long volume { get; set; }
        public string source { get; set; } = "";
        public string flags { get; set; } = "";
        public bool sample { get; set; }

        public DailyBar ToBar() => new(symbol, DateOnly.ParseExact(date, "yyyy-MM-dd", CultureInfo.InvariantCulture),
            (decimal)open, (decimal)high, (decimal)low, (decimal)close, volume, source,
            flags.Length == 0 ? [] : flags.Split(','), Sample: sample);
    }
#pragma warning restore CA1812, IDE1006
}
