using System.Text.Json;
using Dapper;
using FinNews.Core.Delivery;
using Microsoft.Data.Sqlite;

namespace FinNews.Core.Storage.Sqlite;

/// <summary>
/// Subscribers and the send log, in their own tables of the system-of-record SQLite file
/// (<see cref="SqliteStore.ConnectionString"/>).
/// </summary>
/// <remarks>
/// The send log has one row per (subscriber, briefing), enforced by a UNIQUE key. A sender claims the row (status
/// <see cref="SendStatus.Sending"/>) before it talks to the mail server, and only the one claim that inserts the row
/// may send: a subscriber never gets the same briefing twice, across runs, restarts and concurrent workers on the file.
/// </remarks>
public sealed class SqliteDeliveryStore : IDeliveryStore
{
    private readonly string _connectionString;
    private readonly TimeProvider _time;
    private readonly HashSet<string>? _watchlist;

    /// <param name="connectionString">The system-of-record SQLite file.</param>
    /// <param name="time">The clock.</param>
    /// <param name="watchlist">The watchlist symbols a subscription may filter on; any symbol-shaped value when null.</param>
    public SqliteDeliveryStore(string connectionString, TimeProvider time, IEnumerable<string>? watchlist = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        _connectionString = connectionString;
        _time = time;
        _watchlist = watchlist?.ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>Creates the delivery tables if missing; safe on every start.</summary>
    public void Initialize()
    {
        using var c = Open();
        c.Execute("""
            CREATE TABLE IF NOT EXISTS subscribers (
              id INTEGER PRIMARY KEY AUTOINCREMENT,
              email TEXT NOT NULL COLLATE NOCASE UNIQUE,
              time_zone TEXT NOT NULL,
              schedule TEXT NOT NULL,
              sections TEXT NOT NULL,
              tickers TEXT NOT NULL,
              unsubscribe_token TEXT NOT NULL UNIQUE,
              active INTEGER NOT NULL DEFAULT 1,
              created_at INTEGER NOT NULL
            );
            CREATE TABLE IF NOT EXISTS send_log (
              subscriber_id INTEGER NOT NULL REFERENCES subscribers(id),
              briefing_id TEXT NOT NULL,
              status TEXT NOT NULL CHECK (status IN ('sending', 'sent', 'failed', 'skipped')),
              attempts INTEGER NOT NULL DEFAULT 0,
              last_error TEXT,
              claimed_at INTEGER NOT NULL,
              sent_at INTEGER,
              UNIQUE (subscriber_id, briefing_id)
            );
            CREATE INDEX IF NOT EXISTS ix_send_log_status ON send_log(status);
            """);
    }

    // ---- subscribers ----

    /// <summary>
    /// Validates and stores a subscription. An address that is already stored (in any letter case) keeps its id and
    /// unsubscribe token, takes the new settings and becomes active again.
    /// </summary>
    /// <exception cref="SubscriberValidationException">A field is invalid; the message names it and its value.</exception>
    public Subscriber AddSubscriber(NewSubscriber request)
    {
        var (email, zone, schedule, sections, tickers) = SubscriberRules.Validate(request, _watchlist);
        using var c = Open();
        c.Execute("""
            INSERT INTO subscribers(email, time_zone, schedule, sections, tickers, unsubscribe_token, active, created_at)
            VALUES (@email, @zone, @schedule, @sections, @tickers, @token, 1, @now)
            ON CONFLICT(email) DO UPDATE SET time_zone = excluded.time_zone, schedule = excluded.schedule,
              sections = excluded.sections, tickers = excluded.tickers, active = 1
            """, new
        {
            email,
            zone,
            schedule,
            sections = Json(sections),
            tickers = Json(tickers),
            token = SubscriberRules.NewToken(),
            now = _time.GetUtcNow().ToUnixTimeMilliseconds(),
        });
        return c.Query<SubscriberRow>("SELECT * FROM subscribers WHERE email = @email", new { email }).Single().ToSubscriber();
    }

    public Subscriber? GetSubscriber(long id)
    {
        using var c = Open();
        return c.Query<SubscriberRow>("SELECT * FROM subscribers WHERE id = @id", new { id }).Select(r => r.ToSubscriber()).SingleOrDefault();
    }

    /// <summary>Subscribers by id; only active ones unless <paramref name="includeInactive"/>.</summary>
    public IReadOnlyList<Subscriber> ListSubscribers(bool includeInactive = false)
    {
        using var c = Open();
        return c.Query<SubscriberRow>(includeInactive ? "SELECT * FROM subscribers ORDER BY id" : "SELECT * FROM subscribers WHERE active = 1 ORDER BY id")
            .Select(r => r.ToSubscriber()).ToList();
    }

    /// <summary>Deactivates the subscriber holding <paramref name="token"/>; false when no subscriber holds it.</summary>
    /// <remarks>Idempotent: unsubscribing twice is true both times (mail clients may POST the one-click URL more than once).</remarks>
    public bool Unsubscribe(string token)
    {
        if (string.IsNullOrWhiteSpace(token) || token.Length > 100)
        {
            return false;
        }

        using var c = Open();
        return c.Execute("UPDATE subscribers SET active = 0 WHERE unsubscribe_token = @token", new { token }) == 1;
    }

    // ---- send log ----

    /// <summary>
    /// Claims the delivery of a briefing to a subscriber: inserts its send-log row as <see cref="SendStatus.Sending"/>
    /// in a transaction. True only for the caller that inserted it; false when a row already exists in any state.
    /// </summary>
    public bool TryClaim(long subscriberId, string briefingId)
    {
        using var c = Open();
        using var tx = c.BeginTransaction();
        var inserted = c.Execute("""
            INSERT INTO send_log(subscriber_id, briefing_id, status, attempts, claimed_at)
            VALUES (@subscriberId, @briefingId, 'sending', 0, @now)
            ON CONFLICT(subscriber_id, briefing_id) DO NOTHING
            """, new { subscriberId, briefingId, now = _time.GetUtcNow().ToUnixTimeMilliseconds() }, tx);
        tx.Commit();
        return inserted == 1;
    }

    /// <summary>Records one failed attempt (the row stays claimed).</summary>
    public void RecordAttemptFailed(long subscriberId, string briefingId, string error) =>
        Update("UPDATE send_log SET attempts = attempts + 1, last_error = @error WHERE subscriber_id = @subscriberId AND briefing_id = @briefingId AND status = 'sending'",
            new { subscriberId, briefingId, error = SubscriberRules.Truncate(error) });

    /// <summary>Marks a claimed delivery accepted by the mail server.</summary>
    public void MarkSent(long subscriberId, string briefingId) =>
        Update("UPDATE send_log SET status = 'sent', attempts = attempts + 1, sent_at = @now WHERE subscriber_id = @subscriberId AND briefing_id = @briefingId AND status = 'sending'",
            new { subscriberId, briefingId, now = _time.GetUtcNow().ToUnixTimeMilliseconds() });

    /// <summary>Marks a claimed delivery failed for good (every attempt failed).</summary>
    public void MarkFailed(long subscriberId, string briefingId) =>
        Update("UPDATE send_log SET status = 'failed' WHERE subscriber_id = @subscriberId AND briefing_id = @briefingId AND status = 'sending'",
            new { subscriberId, briefingId });

    /// <summary>Marks a claimed delivery as skipped: nothing matched the subscriber's filters.</summary>
    public void MarkSkipped(long subscriberId, string briefingId, string reason) =>
        Update("UPDATE send_log SET status = 'skipped', last_error = @reason WHERE subscriber_id = @subscriberId AND briefing_id = @briefingId AND status = 'sending'",
            new { subscriberId, briefingId, reason });

    public SendLogEntry? GetSendLog(long subscriberId, string briefingId)
    {
        using var c = Open();
        return c.Query<SendLogRow>($"{SendLogSelect} WHERE l.subscriber_id = @subscriberId AND l.briefing_id = @briefingId", new { subscriberId, briefingId })
            .Select(r => r.ToEntry()).SingleOrDefault();
    }

    /// <summary>The send log of one briefing (or of all, newest first), for status pages and tests.</summary>
    public IReadOnlyList<SendLogEntry> ListSendLog(string? briefingId = null, int limit = 500)
    {
        using var c = Open();
        return c.Query<SendLogRow>($"{SendLogSelect} WHERE @briefingId IS NULL OR l.briefing_id = @briefingId ORDER BY l.claimed_at DESC, l.subscriber_id LIMIT @limit",
            new { briefingId, limit }).Select(r => r.ToEntry()).ToList();
    }

    /// <summary>
    /// Deliveries that need an operator: failed ones, and claims still "sending" after <paramref name="staleAfter"/>
    /// (the process died between claim and result, so whether the mail left is unknown; they are never resent
    /// automatically).
    /// </summary>
    public IReadOnlyList<SendLogEntry> ListProblems(TimeSpan staleAfter)
    {
        using var c = Open();
        var before = (_time.GetUtcNow() - staleAfter).ToUnixTimeMilliseconds();
        return c.Query<SendLogRow>($"{SendLogSelect} WHERE l.status = 'failed' OR (l.status = 'sending' AND l.claimed_at < @before) ORDER BY l.claimed_at DESC, l.subscriber_id",
            new { before }).Select(r => r.ToEntry()).ToList();
    }

    private static string Json(IReadOnlyList<string> values) => JsonSerializer.Serialize(values, StorageJsonContext.Default.IReadOnlyListString);

    private void Update(string sql, object args)
    {
        using var c = Open();
        c.Execute(sql, args);
    }

    private SqliteConnection Open() => SqliteStore.OpenConnection(_connectionString);

    private const string SendLogSelect = """
        SELECT l.subscriber_id, s.email, l.briefing_id, l.status, l.attempts, l.last_error, l.claimed_at, l.sent_at
        FROM send_log l JOIN subscribers s ON s.id = l.subscriber_id
        """;

#pragma warning disable CA1812, IDE1006 // Rows are instantiated by Dapper; property names mirror the snake_case columns.
    private sealed class SubscriberRow
    {
        public long id { get; set; }
        public string email { get; set; } = "";
        public string time_zone { get; set; } = "";
        public string schedule { get; set; } = "";
        public string sections { get; set; } = "[]";
        public string tickers { get; set; } = "[]";
        public string unsubscribe_token { get; set; } = "";
        public long active { get; set; }
        public long created_at { get; set; }

        public Subscriber ToSubscriber() => new(id, email, time_zone, schedule, List(sections), List(tickers), unsubscribe_token,
            active != 0, DateTimeOffset.FromUnixTimeMilliseconds(created_at));

        private static IReadOnlyList<string> List(string json) => JsonSerializer.Deserialize(json, StorageJsonContext.Default.IReadOnlyListString) ?? [];
    }

    private sealed class SendLogRow
    {
        public long subscriber_id { get; set; }
        public string email { get; set; } = "";
        public string briefing_id { get; set; } = "";
        public string status { get; set; } = "";
        public long attempts { get; set; }
        public string? last_error { get; set; }
        public long claimed_at { get; set; }
        public long? sent_at { get; set; }

        public SendLogEntry ToEntry() => new(subscriber_id, email, briefing_id,
            Enum.Parse<SendStatus>(status, ignoreCase: true), (int)attempts, last_error,
            DateTimeOffset.FromUnixTimeMilliseconds(claimed_at), sent_at is { } s ? DateTimeOffset.FromUnixTimeMilliseconds(s) : null);
    }
#pragma warning restore CA1812, IDE1006
}
