using System.Globalization;
using System.Text.Json;
using Dapper;
using FinNews.Core.Briefing;
using FinNews.Core.Feeds;
using FinNews.Core.Market;
using Microsoft.Data.Sqlite;

namespace FinNews.Core.Storage.Sqlite;

/// <summary>
/// The system of record on one SQLite file (WAL): feeds and their fetch state, articles, market bars and briefings.
/// </summary>
/// <remarks>
/// Every write that must be atomic is one transaction: the items of a fetch and the feed's new state commit together,
/// so a crash never marks a feed fresh without its items and a rerun never duplicates them.
/// </remarks>
public sealed class SqliteStore : IFeedStore, IArticleStore, IMarketStore, IBriefingStore
{
    private readonly string _connectionString;

    public SqliteStore(string databasePath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(databasePath);
        DatabasePath = Path.GetFullPath(databasePath);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = DatabasePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
    }

    /// <summary>Absolute path of the database file.</summary>
    public string DatabasePath { get; }

    /// <summary>Connection string, shared with the embedded search index.</summary>
    public string ConnectionString => _connectionString;

    internal SqliteConnection Open() => OpenConnection(_connectionString);

    /// <summary>
    /// Opens a connection on the FinNews database with the settings every store on it uses (the delivery and key
    /// stores share the file).
    /// </summary>
    internal static SqliteConnection OpenConnection(string connectionString)
    {
        var connection = new SqliteConnection(connectionString);
        connection.Open();
        // busy_timeout lets concurrent writers (worker + web in one process) wait instead of failing.
        connection.Execute("PRAGMA busy_timeout = 30000; PRAGMA foreign_keys = ON;");
        return connection;
    }

    /// <summary>Creates the file and schema if missing; safe to call on every start.</summary>
    public void Initialize()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(DatabasePath)!);
        using var c = Open();
        c.Execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
        c.Execute("""
            CREATE TABLE IF NOT EXISTS feeds (
              id TEXT PRIMARY KEY,
              name TEXT NOT NULL,
              url TEXT NOT NULL,
              etag TEXT,
              last_modified TEXT,
              last_fetch_at INTEGER,
              last_success_at INTEGER,
              last_error TEXT,
              error_count INTEGER NOT NULL DEFAULT 0,
              items_total INTEGER NOT NULL DEFAULT 0
            );
            CREATE TABLE IF NOT EXISTS articles (
              id TEXT PRIMARY KEY,
              feed_id TEXT NOT NULL,
              outlet TEXT NOT NULL,
              title TEXT NOT NULL,
              url TEXT NOT NULL,
              summary TEXT NOT NULL,
              body TEXT NOT NULL,
              published_at INTEGER NOT NULL,
              first_seen_at INTEGER NOT NULL,
              published_fallback INTEGER NOT NULL,
              tickers TEXT NOT NULL,
              authors TEXT NOT NULL,
              categories TEXT NOT NULL,
              content_hash TEXT NOT NULL,
              repaired INTEGER NOT NULL DEFAULT 0,
              indexed INTEGER NOT NULL DEFAULT 0
            );
            CREATE INDEX IF NOT EXISTS ix_articles_published ON articles(published_at);
            CREATE INDEX IF NOT EXISTS ix_articles_url ON articles(url);
            CREATE INDEX IF NOT EXISTS ix_articles_hash ON articles(content_hash);
            -- The indexer's queue in the order it drains it (oldest first), so each batch is read in index order and
            -- stops after the batch instead of sorting every unindexed row; it replaces ix_articles_unindexed (indexed).
            DROP INDEX IF EXISTS ix_articles_unindexed;
            CREATE INDEX IF NOT EXISTS ix_articles_unindexed_queue ON articles(first_seen_at, id) WHERE indexed = 0;
            CREATE TABLE IF NOT EXISTS market_bars (
              symbol TEXT NOT NULL,
              date TEXT NOT NULL,
              open REAL NOT NULL, high REAL NOT NULL, low REAL NOT NULL, close REAL NOT NULL,
              volume INTEGER NOT NULL,
              source TEXT NOT NULL,
              flags TEXT NOT NULL DEFAULT '',
              PRIMARY KEY (symbol, date)
            );
            CREATE TABLE IF NOT EXISTS briefings (
              id TEXT PRIMARY KEY,
              created_at INTEGER NOT NULL,
              window_start INTEGER NOT NULL,
              window_end INTEGER NOT NULL,
              title TEXT NOT NULL,
              writer TEXT NOT NULL,
              json TEXT NOT NULL
            );
            CREATE INDEX IF NOT EXISTS ix_briefings_created ON briefings(created_at);
            """);
        AddMissingColumns(c);
        ApplyVersionedMigrations(c);
    }

    /// <summary>The schema version recorded in the file (1: the tables above; later: Storage/Migrations/Sqlite scripts).</summary>
    public int SchemaVersion()
    {
        using var c = Open();
        return SchemaMigrations.CurrentVersion(c);
    }

    // Versioned from here on, as on PostgreSQL: the tables and columns above are version 1 (created, or completed for a
    // file from any earlier release, idempotently); each later change is a numbered script in Storage/Migrations/Sqlite,
    // applied once, in order, in one write transaction.
    private static void ApplyVersionedMigrations(SqliteConnection c)
    {
        using var tx = c.BeginTransaction();
        SchemaMigrations.Apply(c, tx, [new SchemaMigration(1, "0001_baseline", (_, _) => { }), .. SchemaMigrations.Scripts("Sqlite")], null);
        tx.Commit();
    }

    // Columns added after the first release: databases created before them get them here, without losing rows.
    private static readonly (string Table, string Name, string Definition)[] LaterColumns =
    [
        ("feeds", "current_url", "TEXT"),
        ("feeds", "next_poll_at", "INTEGER"),
        ("feeds", "first_failure_at", "INTEGER"),
        ("feeds", "retry_after_until", "INTEGER"),
        ("feeds", "paused", "INTEGER NOT NULL DEFAULT 0"),
        ("feeds", "paused_reason", "TEXT"),
        // The feed definitions (the effective feed list): origin 'config' (seeded from feeds.json), 'added' (CLI/API),
        // or NULL for a row that only holds fetch state (a feed no longer declared, or one created by SyncFeeds).
        ("feeds", "origin", "TEXT"),
        ("feeds", "interval_minutes", "INTEGER NOT NULL DEFAULT 30"),
        ("feeds", "sample", "INTEGER NOT NULL DEFAULT 0"),
        ("feeds", "internal", "INTEGER NOT NULL DEFAULT 0"),
        ("feeds", "enabled", "INTEGER NOT NULL DEFAULT 1"),
        ("feeds", "full_text", "INTEGER NOT NULL DEFAULT 0"),
        ("feeds", "position", "INTEGER"),
        ("feeds", "added_at", "INTEGER"),
        ("articles", "cluster_id", "TEXT"),
        ("articles", "backfilled", "INTEGER NOT NULL DEFAULT 0"),
        // Bars loaded from a file marked sample (Market:Files:n:Sample), shown with a "sample" badge.
        ("market_bars", "sample", "INTEGER NOT NULL DEFAULT 0"),
        ("briefings", "approved_at", "INTEGER"),
        ("briefings", "approved_by", "TEXT"),
        ("briefings", "original_json", "TEXT"),
        // Editions: the UTC date a briefing covers news up to (its as-of instant); a later briefing of the same edition
        // is its next version and supersedes it. Rows from before these columns get them in BackfillEditions.
        ("briefings", "as_of", "INTEGER"),
        ("briefings", "edition", "TEXT"),
        ("briefings", "version", "INTEGER"),
        ("briefings", "superseded_by", "TEXT"),
    ];

    private static void AddMissingColumns(SqliteConnection c)
    {
        // One write transaction (BEGIN IMMEDIATE): two processes starting together cannot both add the same column.
        using var tx = c.BeginTransaction();
        foreach (var table in LaterColumns.GroupBy(x => x.Table))
        {
            var existing = c.Query<string>($"SELECT name FROM pragma_table_info('{table.Key}')", transaction: tx).ToHashSet(StringComparer.OrdinalIgnoreCase);
            foreach (var (_, name, definition) in table)
            {
                if (!existing.Contains(name))
                {
                    c.Execute($"ALTER TABLE {table.Key} ADD COLUMN {name} {definition}", transaction: tx);
                }
            }
        }

        c.Execute("CREATE INDEX IF NOT EXISTS ix_articles_cluster ON articles(cluster_id)", transaction: tx);
        BackfillEditions(c, tx);
        c.Execute("CREATE INDEX IF NOT EXISTS ix_briefings_edition ON briefings(edition, version)", transaction: tx);
        tx.Commit();
    }

    // Briefings stored before editions were recorded: as-of from the document (else the window end), versions in
    // order of writing within each edition, every version but the last superseded by the last.
    private static void BackfillEditions(SqliteConnection c, SqliteTransaction tx)
    {
        var rows = c.Query<(string Id, long CreatedAt, string Json)>(
            "SELECT id AS Id, created_at AS CreatedAt, json AS Json FROM briefings WHERE edition IS NULL", transaction: tx).ToList();
        if (rows.Count == 0)
        {
            return;
        }

        var documents = rows.Select(r => JsonSerializer.Deserialize(r.Json, BriefingJsonContext.Default.BriefingDocument)!).ToList();
        foreach (var edition in documents.GroupBy(d => d.Edition))
        {
            var ordered = edition.OrderBy(d => d.CreatedAt).ThenBy(d => d.Id, StringComparer.Ordinal).ToList();
            var start = c.ExecuteScalar<long>("SELECT COALESCE(MAX(version), 0) FROM briefings WHERE edition = @edition",
                new { edition = EditionKey(edition.Key) }, tx);
            for (var i = 0; i < ordered.Count; i++)
            {
                c.Execute("UPDATE briefings SET as_of = @asOf, edition = @edition, version = @version WHERE id = @id", new
                {
                    asOf = ordered[i].CoveredUntil.ToUnixTimeMilliseconds(),
                    edition = EditionKey(edition.Key),
                    version = start + i + 1,
                    id = ordered[i].Id,
                }, tx);
            }

            MarkSuperseded(c, tx, EditionKey(edition.Key));
        }
    }

    private static string EditionKey(DateOnly edition) => edition.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    // Every version of an edition but its newest points at the newest.
    private static void MarkSuperseded(SqliteConnection c, SqliteTransaction tx, string edition) => c.Execute("""
        UPDATE briefings SET superseded_by = (SELECT id FROM briefings WHERE edition = @edition ORDER BY version DESC LIMIT 1)
        WHERE edition = @edition AND id != (SELECT id FROM briefings WHERE edition = @edition ORDER BY version DESC LIMIT 1)
        """, new { edition }, tx);

    // ---- feeds ----

    /// <summary>
    /// Ensures a fetch-state row for each given feed. Rows that hold a feed definition (seeded from the feed list or
    /// added by an operator, see <see cref="SeedFeeds"/> and <see cref="TryAddFeed"/>) are left as they are: their
    /// name and URL come from the definition. For other rows, name and URL are refreshed; when the URL changes, the URL
    /// learned from permanent redirects and the validators are dropped: they belonged to the old address.
    /// </summary>
    public void SyncFeeds(IEnumerable<FeedDefinition> feeds)
    {
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

    /// <summary>
    /// Makes the stored feed definitions agree with the declared feed list (config/feeds.json), in one transaction:
    /// each declared feed is inserted or has its definition refreshed (fetch state kept; validators and the redirect
    /// URL dropped when its URL changed), and becomes a config feed even if an operator had added the same id;
    /// config feeds no longer declared stop being feeds (their fetch state and articles are kept). Feeds added by an
    /// operator under other ids are untouched.
    /// </summary>
    public void SeedFeeds(IReadOnlyList<FeedDefinition> declared)
    {
        ArgumentNullException.ThrowIfNull(declared);
        using var c = Open();
        using var tx = c.BeginTransaction();
        for (var i = 0; i < declared.Count; i++)
        {
            var f = declared[i];
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
                """, DefinitionParams(f, i), tx);
        }

        c.Execute("UPDATE feeds SET origin = NULL, position = NULL WHERE origin = 'config' AND id NOT IN @ids",
            new { ids = declared.Select(f => f.Id).ToArray() }, tx);
        tx.Commit();
    }

    /// <summary>
    /// Stores a feed added by an operator, atomically: true when it was stored, false when a feed with that id already
    /// exists (declared in config or added before). A row left with only fetch state under that id is taken over and
    /// its state reset; articles stored under the id stay.
    /// </summary>
    public bool TryAddFeed(FeedDefinition feed, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(feed);
        using var c = Open();
        var p = new DynamicParameters(DefinitionParams(feed, null));
        p.Add("at", at.ToUnixTimeMilliseconds());
        return c.Execute("""
            INSERT INTO feeds(id, name, url, interval_minutes, sample, internal, enabled, full_text, origin, position, added_at)
            VALUES (@Id, @Name, @Url, @IntervalMinutes, @Sample, @Internal, @Enabled, @FullText, 'added', NULL, @at)
            ON CONFLICT(id) DO UPDATE SET name = excluded.name, url = excluded.url,
              interval_minutes = excluded.interval_minutes, sample = excluded.sample, internal = excluded.internal,
              enabled = excluded.enabled, full_text = excluded.full_text, origin = 'added', position = NULL, added_at = excluded.added_at,
              current_url = NULL, etag = NULL, last_modified = NULL, last_fetch_at = NULL, last_success_at = NULL, last_error = NULL,
              error_count = 0, first_failure_at = NULL, next_poll_at = NULL, retry_after_until = NULL, paused = 0, paused_reason = NULL
            WHERE feeds.origin IS NULL
            """, p) == 1;
    }

    /// <summary>
    /// Removes an operator-added feed's definition (its articles stay). A feed declared in config is not removed:
    /// the declared list is edited in the file, never by the program.
    /// </summary>
    public FeedRemoval RemoveAddedFeed(string feedId)
    {
        using var c = Open();
        using var tx = c.BeginTransaction();
        var origin = c.QueryFirstOrDefault<string?>("SELECT origin FROM feeds WHERE id = @feedId", new { feedId }, tx);
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

    /// <summary>The effective feed list: config feeds in declared order, then added feeds in the order they were added.</summary>
    public IReadOnlyList<StoredFeed> ListFeeds()
    {
        using var c = Open();
        return c.Query<FeedStateRow>("""
            SELECT * FROM feeds WHERE origin IS NOT NULL
            ORDER BY CASE origin WHEN 'config' THEN 0 ELSE 1 END, position, added_at, id
            """).Select(r => r.ToStoredFeed()).ToList();
    }

    /// <summary>One feed of the effective list, or null when no feed has that id.</summary>
    public StoredFeed? GetFeed(string feedId)
    {
        using var c = Open();
        return c.Query<FeedStateRow>("SELECT * FROM feeds WHERE id = @feedId AND origin IS NOT NULL", new { feedId })
            .Select(r => r.ToStoredFeed()).SingleOrDefault();
    }

    private static DynamicParameters DefinitionParams(FeedDefinition f, int? position)
    {
        var p = new DynamicParameters();
        p.Add("Id", f.Id);
        p.Add("Name", f.Name);
        p.Add("Url", f.Url);
        p.Add("IntervalMinutes", f.IntervalMinutes);
        p.Add("Sample", f.Sample ? 1 : 0);
        p.Add("Internal", f.Internal ? 1 : 0);
        p.Add("Enabled", f.Enabled ? 1 : 0);
        p.Add("FullText", f.FullText ? 1 : 0);
        p.Add("Position", position);
        return p;
    }

    public FeedState? GetFeedState(string feedId)
    {
        using var c = Open();
        return c.Query<FeedStateRow>("SELECT * FROM feeds WHERE id = @feedId", new { feedId })
            .Select(r => r.ToState()).SingleOrDefault();
    }

    public IReadOnlyList<FeedState> ListFeedStates()
    {
        using var c = Open();
        return c.Query<FeedStateRow>("SELECT * FROM feeds ORDER BY id").Select(r => r.ToState()).ToList();
    }

    /// <summary>Records a failed fetch: the error and a growing error count; articles and schedule untouched.</summary>
    public void RecordFeedError(string feedId, string error, DateTimeOffset at)
    {
        using var c = Open();
        c.Execute("""
            UPDATE feeds SET last_fetch_at = @at, last_error = @error, error_count = error_count + 1,
              first_failure_at = COALESCE(first_failure_at, @at)
            WHERE id = @feedId
            """, new { feedId, error, at = at.ToUnixTimeMilliseconds() });
    }

    /// <summary>
    /// Records a failed fetch with its schedule (from <see cref="FeedPollPolicy.AfterFailure"/>): error count, start of
    /// the failure streak, next poll time, the server's Retry-After, and the pause when the streak has lasted too long.
    /// </summary>
    public void RecordFeedFailure(string feedId, string error, DateTimeOffset at, FeedFailurePlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        using var c = Open();
        c.Execute("""
            UPDATE feeds SET last_fetch_at = @at, last_error = @error, error_count = @ErrorCount,
              first_failure_at = @FirstFailureAt, next_poll_at = @NextPollAt, retry_after_until = @RetryAfterUntil,
              paused = CASE WHEN @PausedReason IS NULL THEN paused ELSE 1 END,
              paused_reason = COALESCE(@PausedReason, paused_reason)
            WHERE id = @feedId
            """, new
        {
            feedId,
            error,
            at = at.ToUnixTimeMilliseconds(),
            plan.ErrorCount,
            FirstFailureAt = plan.FirstFailureAt.ToUnixTimeMilliseconds(),
            NextPollAt = plan.NextPollAt.ToUnixTimeMilliseconds(),
            RetryAfterUntil = plan.RetryAfterUntil?.ToUnixTimeMilliseconds(),
            plan.PausedReason,
        });
    }

    /// <summary>
    /// Un-pauses a feed and clears its failure streak, so the next pass polls it. False when no such feed exists.
    /// </summary>
    /// <summary>Pauses a feed by hand (an operator's decision); its state and articles are kept. False if unknown.</summary>
    public bool PauseFeed(string feedId, string reason)
    {
        using var c = Open();
        return c.Execute("UPDATE feeds SET paused = 1, paused_reason = @reason WHERE id = @feedId", new { feedId, reason }) > 0;
    }

    /// <summary>Articles stored per feed since <paramref name="since"/> (for items-per-day on the health page).</summary>
    public IReadOnlyDictionary<string, long> ArticleCountsByFeed(DateTimeOffset since)
    {
        using var c = Open();
        return c.Query<(string FeedId, long Count)>("SELECT feed_id AS FeedId, COUNT(*) AS Count FROM articles WHERE first_seen_at >= @since GROUP BY feed_id",
            new { since = since.ToUnixTimeMilliseconds() }).ToDictionary(r => r.FeedId, r => r.Count, StringComparer.Ordinal);
    }

    public bool ResumeFeed(string feedId)
    {
        using var c = Open();
        return c.Execute("""
            UPDATE feeds SET paused = 0, paused_reason = NULL, error_count = 0, first_failure_at = NULL,
              next_poll_at = NULL, retry_after_until = NULL
            WHERE id = @feedId
            """, new { feedId }) > 0;
    }

    /// <summary>
    /// Stores one successful fetch: new articles (exact duplicates skipped, changed ones updated) and the feed's new
    /// validators, in one transaction.
    /// </summary>
    public IngestCounts CommitFetch(string feedId, IReadOnlyList<Article> articles, string? etag, string? lastModified, DateTimeOffset at) =>
        CommitFetch(feedId, articles, etag, lastModified, at, null, null);

    /// <summary>
    /// Stores one successful fetch as above, with the feed's next poll time and, when a permanent redirect moved the
    /// feed, its new URL (null keeps the stored one). The failure streak and any Retry-After are cleared.
    /// </summary>
    public IngestCounts CommitFetch(string feedId, IReadOnlyList<Article> articles, string? etag, string? lastModified, DateTimeOffset at,
        DateTimeOffset? nextPollAt, string? currentUrl)
    {
        ArgumentNullException.ThrowIfNull(articles);
        using var c = Open();
        using var tx = c.BeginTransaction();
        var counts = StoreArticles(c, tx, articles);
        c.Execute("""
            UPDATE feeds SET etag = @etag, last_modified = @lastModified, last_fetch_at = @at, last_success_at = @at,
              last_error = NULL, error_count = 0, items_total = items_total + @inserted,
              first_failure_at = NULL, retry_after_until = NULL, next_poll_at = @next,
              current_url = COALESCE(@currentUrl, current_url)
            WHERE id = @feedId
            """, new { feedId, etag, lastModified, at = at.ToUnixTimeMilliseconds(), inserted = counts.Inserted, next = nextPollAt?.ToUnixTimeMilliseconds(), currentUrl }, tx);
        tx.Commit();
        return counts;
    }

    /// <summary>
    /// Stores articles imported from history (<c>ingest --backfill</c>) in one transaction, with the same duplicate and
    /// edit rules as a fetch, without touching the feed's fetch state: the next live poll still sends its validators.
    /// </summary>
    public IngestCounts ImportArticles(IReadOnlyList<Article> articles)
    {
        ArgumentNullException.ThrowIfNull(articles);
        using var c = Open();
        using var tx = c.BeginTransaction();
        var counts = StoreArticles(c, tx, articles);
        tx.Commit();
        return counts;
    }

    // New items are inserted; an item stored before with other content is an edit (text replaced, identity and
    // first-seen kept, re-indexed); the same id, URL or content elsewhere is a duplicate. The three statements are
    // prepared once per fetch and re-bound per item (a feed holds hundreds of items; preparing per item was most of
    // the store's time), and the decisions are the same, in the same order, as one statement per item.
    private static IngestCounts StoreArticles(SqliteConnection c, SqliteTransaction tx, IReadOnlyList<Article> articles)
    {
        int inserted = 0, updated = 0, duplicates = 0;
        if (articles.Count == 0)
        {
            return new IngestCounts(0, 0, 0);
        }

        using var find = c.CreateCommand();
        find.Transaction = tx;
        find.CommandText = "SELECT content_hash FROM articles WHERE id = $id";
        var findId = find.Parameters.Add("$id", SqliteType.Text);

        using var elsewhere = c.CreateCommand();
        elsewhere.Transaction = tx;
        elsewhere.CommandText = "SELECT EXISTS (SELECT 1 FROM articles WHERE url = $url OR content_hash = $hash)";
        var elsewhereUrl = elsewhere.Parameters.Add("$url", SqliteType.Text);
        var elsewhereHash = elsewhere.Parameters.Add("$hash", SqliteType.Text);

        using var update = c.CreateCommand();
        update.Transaction = tx;
        update.CommandText = """
            UPDATE articles SET title = $title, summary = $summary, body = $body, tickers = $tickers,
              authors = $authors, categories = $categories, content_hash = $hash, repaired = $repaired, indexed = 0
            WHERE id = $id
            """;
        var edit = ArticleParameters.For(update);

        using var insert = c.CreateCommand();
        insert.Transaction = tx;
        insert.CommandText = """
            INSERT INTO articles(id, feed_id, outlet, title, url, summary, body, published_at, first_seen_at,
              published_fallback, tickers, authors, categories, content_hash, repaired, backfilled, indexed)
            VALUES ($id, $feed, $outlet, $title, $url, $summary, $body, $published, $firstSeen,
              $fallback, $tickers, $authors, $categories, $hash, $repaired, $backfilled, 0)
            """;
        var add = ArticleParameters.For(insert);

        foreach (var a in articles)
        {
            findId.Value = a.Id;
            if (find.ExecuteScalar() is string storedHash)
            {
                if (storedHash == a.ContentHash)
                {
                    duplicates++;
                    continue;
                }

                // The publisher edited the item: keep its identity and first-seen time, take the new text, re-index.
                edit.Bind(a);
                update.ExecuteNonQuery();
                updated++;
                continue;
            }

            elsewhereUrl.Value = a.Url;
            elsewhereHash.Value = a.ContentHash;
            if (Convert.ToInt64(elsewhere.ExecuteScalar(), CultureInfo.InvariantCulture) != 0)
            {
                duplicates++;
                continue;
            }

            add.Bind(a);
            insert.ExecuteNonQuery();
            inserted++;
        }

        return new IngestCounts(inserted, updated, duplicates);
    }

    /// <summary>The article parameters of one prepared statement (a statement that names fewer simply leaves the rest unbound).</summary>
    private sealed class ArticleParameters
    {
        private readonly Dictionary<string, SqliteParameter> _byName;

        private ArticleParameters(Dictionary<string, SqliteParameter> byName) => _byName = byName;

        public static ArticleParameters For(SqliteCommand command) =>
            new(Columns.ToDictionary(c => c.Name, c => command.Parameters.Add(c.Name, c.Type), StringComparer.Ordinal));

        public void Bind(Article a)
        {
            Set("$id", a.Id);
            Set("$feed", a.FeedId);
            Set("$outlet", a.Outlet);
            Set("$title", a.Title);
            Set("$url", a.Url);
            Set("$summary", a.Summary);
            Set("$body", a.Body);
            Set("$published", a.PublishedAt.ToUnixTimeMilliseconds());
            Set("$firstSeen", a.FirstSeenAt.ToUnixTimeMilliseconds());
            Set("$fallback", a.PublishedIsFallback ? 1 : 0);
            Set("$tickers", JsonSerializer.Serialize(a.Tickers, StorageJsonContext.Default.IReadOnlyListString));
            Set("$authors", JsonSerializer.Serialize(a.Authors, StorageJsonContext.Default.IReadOnlyListString));
            Set("$categories", JsonSerializer.Serialize(a.Categories, StorageJsonContext.Default.IReadOnlyListString));
            Set("$hash", a.ContentHash);
            Set("$repaired", a.Repaired ? 1 : 0);
            Set("$backfilled", a.Backfilled ? 1 : 0);
        }

        // A null (a caller's broken article) is bound as SQL NULL, so the NOT NULL constraint refuses it as before.
        private void Set(string name, object? value) => _byName[name].Value = value ?? DBNull.Value;

        private static readonly (string Name, SqliteType Type)[] Columns =
        [
            ("$id", SqliteType.Text), ("$feed", SqliteType.Text), ("$outlet", SqliteType.Text), ("$title", SqliteType.Text),
            ("$url", SqliteType.Text), ("$summary", SqliteType.Text), ("$body", SqliteType.Text), ("$published", SqliteType.Integer),
            ("$firstSeen", SqliteType.Integer), ("$fallback", SqliteType.Integer), ("$tickers", SqliteType.Text),
            ("$authors", SqliteType.Text), ("$categories", SqliteType.Text), ("$hash", SqliteType.Text),
            ("$repaired", SqliteType.Integer), ("$backfilled", SqliteType.Integer),
        ];
    }

    /// <summary>Records a 304 Not Modified: the feed is fresh, nothing new.</summary>
    public void RecordNotModified(string feedId, DateTimeOffset at) => RecordNotModified(feedId, at, null, null);

    /// <summary>Records a 304 with the next poll time and the URL learned from a permanent redirect (null keeps it).</summary>
    public void RecordNotModified(string feedId, DateTimeOffset at, DateTimeOffset? nextPollAt, string? currentUrl)
    {
        using var c = Open();
        c.Execute("""
            UPDATE feeds SET last_fetch_at = @at, last_success_at = @at, last_error = NULL, error_count = 0,
              first_failure_at = NULL, retry_after_until = NULL, next_poll_at = @next,
              current_url = COALESCE(@currentUrl, current_url)
            WHERE id = @feedId
            """, new { feedId, at = at.ToUnixTimeMilliseconds(), next = nextPollAt?.ToUnixTimeMilliseconds(), currentUrl });
    }

    // ---- articles ----

    // An article is sample data when the feed it came from is marked sample in the feed list (config/feeds.json).
    private const string ArticleColumns = "articles.*, COALESCE((SELECT sample FROM feeds WHERE feeds.id = articles.feed_id), 0) AS sample";

    public Article? GetArticle(string id)
    {
        using var c = Open();
        return c.Query<ArticleRow>($"SELECT {ArticleColumns} FROM articles WHERE id = @id", new { id }).Select(r => r.ToArticle()).SingleOrDefault();
    }

    public IReadOnlyList<Article> GetArticles(IEnumerable<string> ids)
    {
        using var c = Open();
        return c.Query<ArticleRow>($"SELECT {ArticleColumns} FROM articles WHERE id IN @ids", new { ids = ids.ToArray() })
            .Select(r => r.ToArticle()).ToList();
    }

    /// <summary>
    /// Articles published in [from, to) that this service had already seen by <paramref name="knownBefore"/>
    /// (default <paramref name="to"/>), newest first: a point-in-time view never uses what arrived later.
    /// </summary>
    public IReadOnlyList<Article> ArticlesInWindow(DateTimeOffset from, DateTimeOffset to, DateTimeOffset? knownBefore = null, int limit = 5000)
    {
        using var c = Open();
        return c.Query<ArticleRow>($"""
            SELECT {ArticleColumns} FROM articles WHERE published_at >= @from AND published_at < @to AND first_seen_at <= @known
            ORDER BY published_at DESC LIMIT @limit
            """, new { from = from.ToUnixTimeMilliseconds(), to = to.ToUnixTimeMilliseconds(), known = (knownBefore ?? to).ToUnixTimeMilliseconds(), limit })
            .Select(r => r.ToArticle()).ToList();
    }

    /// <summary>
    /// The newest articles tagged with <paramref name="symbol"/> that were published and first seen by
    /// <paramref name="knownBefore"/>, newest first.
    /// </summary>
    public IReadOnlyList<Article> ArticlesTagged(string symbol, DateTimeOffset knownBefore, int limit = 10)
    {
        using var c = Open();
        // instr() cheaply narrows to rows whose ticker list holds the quoted symbol; json_each() then checks it is one of the tags.
        return c.Query<ArticleRow>($"""
            SELECT {ArticleColumns} FROM articles
            WHERE first_seen_at <= @known AND published_at <= @known AND instr(tickers, @quoted) > 0
              AND EXISTS (SELECT 1 FROM json_each(articles.tickers) WHERE json_each.value = @symbol)
            ORDER BY published_at DESC, id LIMIT @limit
            """, new { symbol, quoted = $"\"{symbol}\"", known = knownBefore.ToUnixTimeMilliseconds(), limit })
            .Select(r => r.ToArticle()).ToList();
    }

    /// <summary>The newest publication time among articles seen by <paramref name="knownBefore"/>, if any.</summary>
    public DateTimeOffset? LatestPublished(DateTimeOffset knownBefore)
    {
        using var c = Open();
        var ms = c.ExecuteScalar<long?>("SELECT MAX(published_at) FROM articles WHERE first_seen_at <= @known AND published_at < @known",
            new { known = knownBefore.ToUnixTimeMilliseconds() });
        return ms is { } v ? DateTimeOffset.FromUnixTimeMilliseconds(v) : null;
    }

    public long CountArticles()
    {
        using var c = Open();
        return c.ExecuteScalar<long>("SELECT COUNT(*) FROM articles");
    }

    /// <summary>A batch of articles not yet in the search index, oldest first.</summary>
    public IReadOnlyList<Article> UnindexedArticles(int batchSize)
    {
        using var c = Open();
        return c.Query<ArticleRow>($"SELECT {ArticleColumns} FROM articles WHERE indexed = 0 ORDER BY first_seen_at, id LIMIT @batchSize", new { batchSize })
            .Select(r => r.ToArticle()).ToList();
    }

    /// <inheritdoc/>
    public Task<IAsyncDisposable?> LockIndexQueueAsync(bool wait, CancellationToken cancellationToken = default) =>
        Task.FromResult<IAsyncDisposable?>(NoLock.Instance);

    private sealed class NoLock : IAsyncDisposable
    {
        public static readonly NoLock Instance = new();

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    public int MarkIndexed(IReadOnlyCollection<(string Id, string ContentHash)> indexed)
    {
        ArgumentNullException.ThrowIfNull(indexed);
        using var c = Open();
        // One JSON parameter of [id, hash] pairs, not parameters per row: binding thousands of named parameters costs
        // more than the update itself (the indexer marks its batches of SearchIndexer.DefaultBatchSize this way). Not
        // two arrays joined on their keys either: SQLite re-reads the inner json_each for every outer row, which made
        // marking a 2,048-article batch cost 0.19 s of CPU. An article is marked only if its content is still the one
        // indexed: an edit committed meanwhile leaves it queued.
        var pairs = indexed.Select(r => (IReadOnlyList<string>)[r.Id, r.ContentHash]).ToArray();
        return c.Execute(
            """
            UPDATE articles SET indexed = 1
            FROM (SELECT json_extract(p.value, '$[0]') AS id, json_extract(p.value, '$[1]') AS hash FROM json_each(@pairs) p) AS m
            WHERE articles.id = m.id AND articles.content_hash = m.hash
            """,
            new { pairs = JsonSerializer.Serialize<IReadOnlyList<IReadOnlyList<string>>>(pairs, StorageJsonContext.Default.IReadOnlyListIReadOnlyListString) });
    }

    /// <summary>Ids of articles published before <paramref name="cutoff"/> (retention).</summary>
    public IReadOnlyList<string> ArticleIdsPublishedBefore(DateTimeOffset cutoff, int limit = 50_000)
    {
        using var c = Open();
        return c.Query<string>("SELECT id FROM articles WHERE published_at < @cutoff ORDER BY published_at LIMIT @limit",
            new { cutoff = cutoff.ToUnixTimeMilliseconds(), limit }).ToList();
    }

    /// <summary>Deletes articles by id (one transaction); returns how many were deleted.</summary>
    public int DeleteArticles(IReadOnlyCollection<string> ids)
    {
        using var c = Open();
        using var tx = c.BeginTransaction();
        var n = 0;
        foreach (var batch in ids.Chunk(500))
        {
            n += c.Execute("DELETE FROM articles WHERE id IN @batch", new { batch }, tx);
        }

        tx.Commit();
        return n;
    }

    /// <summary>Marks every article for re-indexing (reindex).</summary>
    public void MarkAllUnindexed()
    {
        using var c = Open();
        c.Execute("UPDATE articles SET indexed = 0");
    }

    /// <summary>The story cluster of each article that has one.</summary>
    public IReadOnlyDictionary<string, string> ClusterIds(IEnumerable<string> articleIds)
    {
        using var c = Open();
        return c.Query<(string Id, string Cluster)>("SELECT id AS Id, cluster_id AS Cluster FROM articles WHERE cluster_id IS NOT NULL AND id IN @ids",
            new { ids = articleIds.ToArray() }).ToDictionary(r => r.Id, r => r.Cluster, StringComparer.Ordinal);
    }

    /// <summary>Records each article's story cluster (one transaction).</summary>
    public void AssignClusters(IEnumerable<(string ArticleId, string ClusterId)> assignments)
    {
        using var c = Open();
        using var tx = c.BeginTransaction();
        foreach (var (articleId, clusterId) in assignments)
        {
            c.Execute("UPDATE articles SET cluster_id = @clusterId WHERE id = @articleId AND (cluster_id IS NULL OR cluster_id <> @clusterId)",
                new { articleId, clusterId }, tx);
        }

        tx.Commit();
    }

    /// <summary>Stories (clusters) with an article published at or after <paramref name="since"/>, most outlets first.</summary>
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

    /// <summary>Every article of one story cluster, oldest first (the outlets that carried it).</summary>
    public IReadOnlyList<Article> StoryArticles(string clusterId)
    {
        using var c = Open();
        return c.Query<ArticleRow>($"SELECT {ArticleColumns} FROM articles WHERE cluster_id = @clusterId ORDER BY published_at, id", new { clusterId })
            .Select(r => r.ToArticle()).ToList();
    }

    /// <inheritdoc/>
    public IReadOnlyList<(string Id, DateTimeOffset FirstSeenAt)> ArticleKeysAfter(DateTimeOffset afterFirstSeen, string afterId, int limit)
    {
        using var c = Open();
        return c.Query<(string Id, long FirstSeen)>("""
            SELECT id AS Id, first_seen_at AS FirstSeen FROM articles
            WHERE first_seen_at > @seen OR (first_seen_at = @seen AND id > @afterId)
            ORDER BY first_seen_at, id LIMIT @limit
            """, new { seen = afterFirstSeen.ToUnixTimeMilliseconds(), afterId, limit })
            .Select(r => (r.Id, DateTimeOffset.FromUnixTimeMilliseconds(r.FirstSeen))).ToList();
    }

    // ---- market bars ----

    /// <summary>Upserts bars (one row per symbol and date: reloading a file never duplicates).</summary>
    public int UpsertBars(IEnumerable<DailyBar> bars)
    {
        using var c = Open();
        using var tx = c.BeginTransaction();
        var n = 0;
        foreach (var b in bars)
        {
            n += c.Execute("""
                INSERT INTO market_bars(symbol, date, open, high, low, close, volume, source, flags, sample)
                VALUES (@Symbol, @Date, @Open, @High, @Low, @Close, @Volume, @Source, @Flags, @Sample)
                ON CONFLICT(symbol, date) DO UPDATE SET open = excluded.open, high = excluded.high, low = excluded.low,
                  close = excluded.close, volume = excluded.volume, source = excluded.source, flags = excluded.flags, sample = excluded.sample
                """, new
            {
                b.Symbol,
                Date = b.Date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                // Bound as REAL: Microsoft.Data.Sqlite would store decimal as TEXT, which sorts and compares wrongly.
                Open = (double)b.Open,
                High = (double)b.High,
                Low = (double)b.Low,
                Close = (double)b.Close,
                b.Volume,
                b.Source,
                Flags = string.Join(',', b.Flags),
                Sample = b.Sample ? 1 : 0,
            }, tx);
        }

        tx.Commit();
        return n;
    }

    /// <summary>Bars of a symbol up to and including <paramref name="onOrBefore"/>, newest first.</summary>
    public IReadOnlyList<DailyBar> GetBars(string symbol, DateOnly onOrBefore, int limit = 30)
    {
        using var c = Open();
        return c.Query<BarRow>("""
            SELECT * FROM market_bars WHERE symbol = @symbol AND date <= @d ORDER BY date DESC LIMIT @limit
            """, new { symbol, d = onOrBefore.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), limit })
            .Select(r => r.ToBar()).ToList();
    }

    public IReadOnlyList<string> BarSymbols()
    {
        using var c = Open();
        return c.Query<string>("SELECT DISTINCT symbol FROM market_bars ORDER BY symbol").ToList();
    }

    // ---- briefings ----

    /// <summary>
    /// Stores a newly written briefing as the next version of its edition (see <see cref="BriefingDocument.Edition"/>);
    /// earlier versions of the edition are marked superseded by it. Saving the same id again only refreshes its content.
    /// </summary>
    public void SaveBriefing(BriefingDocument briefing)
    {
        ArgumentNullException.ThrowIfNull(briefing);
        using var c = Open();
        using var tx = c.BeginTransaction();
        var edition = EditionKey(briefing.Edition);
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

    public BriefingDocument? GetBriefing(string id)
    {
        using var c = Open();
        var json = c.ExecuteScalar<string?>("SELECT json FROM briefings WHERE id = @id", new { id });
        return json is null ? null : JsonSerializer.Deserialize(json, BriefingJsonContext.Default.BriefingDocument);
    }

    /// <summary>
    /// The briefing of record: the current version of the newest edition (the latest covered day), not merely the last
    /// one written, so a back-dated briefing never replaces today's.
    /// </summary>
    public BriefingDocument? LatestBriefing() =>
        LatestBriefingJson() is { } json ? JsonSerializer.Deserialize(json, BriefingJsonContext.Default.BriefingDocument) : null;

    /// <summary>The stored JSON of <see cref="LatestBriefing"/> (what a cache of its renderings compares), or null.</summary>
    public string? LatestBriefingJson()
    {
        using var c = Open();
        return c.ExecuteScalar<string?>("""
            SELECT json FROM briefings WHERE superseded_by IS NULL ORDER BY edition DESC, version DESC, created_at DESC, id DESC LIMIT 1
            """);
    }

    /// <summary>
    /// Briefing headers, newest edition first. By default only each edition's current version; with
    /// <paramref name="allVersions"/>, superseded versions too (newest version first within an edition).
    /// </summary>
    public IReadOnlyList<BriefingSummary> ListBriefings(int skip, int take, bool allVersions = false)
    {
        using var c = Open();
        return c.Query<SummaryRow>($"""
            SELECT id AS Id, created_at AS CreatedAt, window_start AS WindowStart, window_end AS WindowEnd, title AS Title, writer AS Writer,
                   as_of AS AsOf, edition AS Edition, version AS Version, superseded_by AS SupersededBy
            FROM briefings {(allVersions ? "" : "WHERE superseded_by IS NULL")}
            ORDER BY edition DESC, version DESC, created_at DESC, id DESC LIMIT @take OFFSET @skip
            """, new { skip, take })
            .Select(r => r.ToSummary())
            .ToList();
    }

    /// <summary>Every version of one edition (yyyy-MM-dd), newest first.</summary>
    public IReadOnlyList<BriefingSummary> BriefingVersions(DateOnly edition)
    {
        using var c = Open();
        return c.Query<SummaryRow>("""
            SELECT id AS Id, created_at AS CreatedAt, window_start AS WindowStart, window_end AS WindowEnd, title AS Title, writer AS Writer,
                   as_of AS AsOf, edition AS Edition, version AS Version, superseded_by AS SupersededBy
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

    /// <summary>Marks a briefing approved by an analyst (approved briefings feed the fine-tuning dataset). False if unknown.</summary>
    public bool ApproveBriefing(string id, string approvedBy, DateTimeOffset at)
    {
        using var c = Open();
        return c.Execute("UPDATE briefings SET approved_at = @at, approved_by = @approvedBy WHERE id = @id",
            new { id, approvedBy, at = at.ToUnixTimeMilliseconds() }) > 0;
    }

    /// <summary>When and by whom a briefing was approved, if it was.</summary>
    public (DateTimeOffset At, string By)? Approval(string id)
    {
        using var c = Open();
        var row = c.QueryFirstOrDefault<(long? At, string? By)>("SELECT approved_at AS At, approved_by AS By FROM briefings WHERE id = @id", new { id });
        return row.At is { } at ? (DateTimeOffset.FromUnixTimeMilliseconds(at), row.By ?? "") : null;
    }

    /// <summary>
    /// Every approved briefing, any version, in order of the instant it covers (oldest first): the material of the
    /// fine-tuning dataset. <see cref="ApprovedBriefing.Edited"/> says whether an analyst changed the writer's text.
    /// </summary>
    public IReadOnlyList<ApprovedBriefing> ApprovedBriefings()
    {
        using var c = Open();
        return c.Query<(string Json, long At, string? By, long Edited)>("""
            SELECT json AS Json, approved_at AS At, approved_by AS By, original_json IS NOT NULL AS Edited
            FROM briefings WHERE approved_at IS NOT NULL ORDER BY as_of, created_at, id
            """)
            .Select(r => new ApprovedBriefing(JsonSerializer.Deserialize(r.Json, BriefingJsonContext.Default.BriefingDocument)!,
                DateTimeOffset.FromUnixTimeMilliseconds(r.At), r.By ?? "", r.Edited != 0))
            .ToList();
    }

    /// <summary>
    /// Replaces a briefing with an analyst's edit (same id, sources and citations); the first edit keeps the writer's
    /// original so the two can be compared. Any approval is cleared: an edit needs approving again.
    /// </summary>
    public void SaveEditedBriefing(BriefingDocument edited)
    {
        ArgumentNullException.ThrowIfNull(edited);
        using var c = Open();
        c.Execute("""
            UPDATE briefings SET original_json = COALESCE(original_json, json), json = @Json, approved_at = NULL, approved_by = NULL WHERE id = @Id
            """, new { edited.Id, Json = JsonSerializer.Serialize(edited, BriefingJsonContext.Default.BriefingDocument) });
    }

    /// <summary>How many briefings <see cref="ListBriefings"/> lists: current versions only, unless <paramref name="allVersions"/>.</summary>
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
        public long published_fallback { get; set; }
        public string tickers { get; set; } = "[]";
        public string authors { get; set; } = "[]";
        public string categories { get; set; } = "[]";
        public string content_hash { get; set; } = "";
        public long repaired { get; set; }

        public long backfilled { get; set; }
        public long indexed { get; set; }
        public string? cluster_id { get; set; }
        public long sample { get; set; }

        public Article ToArticle() => new(id, feed_id, outlet, title, url, summary, body,
            DateTimeOffset.FromUnixTimeMilliseconds(published_at), DateTimeOffset.FromUnixTimeMilliseconds(first_seen_at),
            published_fallback != 0, List(tickers), List(authors), List(categories), content_hash, repaired != 0, sample != 0, backfilled != 0);

        private static IReadOnlyList<string> List(string json) =>
            JsonSerializer.Deserialize(json, StorageJsonContext.Default.IReadOnlyListString) ?? [];
    }

    private sealed class FeedStateRow
    {
        public string id { get; set; } = "";
        public string name { get; set; } = "";
        public string url { get; set; } = "";
        public string? etag { get; set; }
        public string? last_modified { get; set; }
        public long? last_fetch_at { get; set; }
        public long? last_success_at { get; set; }
        public string? last_error { get; set; }
        public long error_count { get; set; }
        public long items_total { get; set; }
        public string? current_url { get; set; }
        public long? next_poll_at { get; set; }
        public long? first_failure_at { get; set; }
        public long? retry_after_until { get; set; }
        public long paused { get; set; }
        public string? paused_reason { get; set; }
        public string? origin { get; set; }
        public long interval_minutes { get; set; } = 30;
        public long sample { get; set; }
        public long @internal { get; set; }
        public long enabled { get; set; } = 1;
        public long full_text { get; set; }
        public long? position { get; set; }
        public long? added_at { get; set; }

        public StoredFeed ToStoredFeed() => new(
            new FeedDefinition(id, name, url, (int)interval_minutes, sample != 0, @internal != 0, enabled != 0, full_text != 0),
            origin ?? "", Time(added_at));

        public FeedState ToState() => new(id, name, url, etag, last_modified, Time(last_fetch_at), Time(last_success_at),
            last_error, (int)error_count, items_total)
        {
            CurrentUrl = current_url,
            NextPollAt = Time(next_poll_at),
            FirstFailureAt = Time(first_failure_at),
            RetryAfterUntil = Time(retry_after_until),
            Paused = paused != 0,
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
        public long sample { get; set; }

        public DailyBar ToBar() => new(symbol, DateOnly.ParseExact(date, "yyyy-MM-dd", CultureInfo.InvariantCulture),
            (decimal)open, (decimal)high, (decimal)low, (decimal)close, volume, source,
            flags.Length == 0 ? [] : flags.Split(','), Sample: sample != 0);
    }
#pragma warning restore CA1812, IDE1006
}
