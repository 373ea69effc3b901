using System.Text.Json;
using Dapper;
using FinNews.Core.Delivery;

namespace FinNews.Core.Storage.Postgres;

/// <summary>Subscribers and the send log on PostgreSQL (tables created by <see cref="PostgresStore.Initialize"/>).</summary>
/// <remarks>The same rules as <see cref="Sqlite.SqliteDeliveryStore"/>: validation is shared (<see cref="SubscriberRules"/>), and the UNIQUE send-log key makes a claim exclusive across nodes.</remarks>
public sealed class PostgresDeliveryStore : IDeliveryStore
{
    private readonly PostgresStore _store;
    private readonly TimeProvider _time;
    private readonly HashSet<string>? _watchlist;

    /// <param name="store">The migrated PostgreSQL store whose connections this uses.</param>
    /// <param name="time">The clock.</param>
    /// <param name="watchlist">The watchlist symbols a subscription may filter on; any symbol-shaped value when null.</param>
    public PostgresDeliveryStore(PostgresStore store, TimeProvider time, IEnumerable<string>? watchlist = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        _store = store;
        _time = time;
        _watchlist = watchlist?.ToHashSet(StringComparer.Ordinal);
    }

    /// <inheritdoc/>
    public Subscriber AddSubscriber(NewSubscriber request)
    {
        var (email, zone, schedule, sections, tickers) = SubscriberRules.Validate(request, _watchlist);
        using var c = _store.Open();
        return c.Query<SubscriberRow>("""
            INSERT INTO subscribers(email, time_zone, schedule, sections, tickers, unsubscribe_token, active, created_at)
            VALUES (@email, @zone, @schedule, @sections, @tickers, @token, true, @now)
            ON CONFLICT ((lower(email))) DO UPDATE SET time_zone = excluded.time_zone, schedule = excluded.schedule,
              sections = excluded.sections, tickers = excluded.tickers, active = true
            RETURNING *
            """, new
        {
            email,
            zone,
            schedule,
            sections = Json(sections),
            tickers = Json(tickers),
            token = SubscriberRules.NewToken(),
            now = _time.GetUtcNow().ToUnixTimeMilliseconds(),
        }).Single().ToSubscriber();
    }

    /// <inheritdoc/>
    public Subscriber? GetSubscriber(long id)
    {
        using var c = _store.Open();
        return c.Query<SubscriberRow>("SELECT * FROM subscribers WHERE id = @id", new { id }).Select(r => r.ToSubscriber()).SingleOrDefault();
    }

    /// <inheritdoc/>
    public IReadOnlyList<Subscriber> ListSubscribers(bool includeInactive = false)
    {
        using var c = _store.Open();
        return c.Query<SubscriberRow>(includeInactive ? "SELECT * FROM subscribers ORDER BY id" : "SELECT * FROM subscribers WHERE active ORDER BY id")
            .Select(r => r.ToSubscriber()).ToList();
    }

    /// <inheritdoc/>
    public bool Unsubscribe(string token)
    {
        if (string.IsNullOrWhiteSpace(token) || token.Length > 100)
        {
            return false;
        }

        using var c = _store.Open();
        return c.Execute("UPDATE subscribers SET active = false WHERE unsubscribe_token = @token", new { token }) == 1;
    }

    /// <inheritdoc/>
    public bool TryClaim(long subscriberId, string briefingId)
    {
        using var c = _store.Open();
        return c.Execute("""
            INSERT INTO send_log(subscriber_id, briefing_id, status, attempts, claimed_at)
            VALUES (@subscriberId, @briefingId, 'sending', 0, @now)
            ON CONFLICT(subscriber_id, briefing_id) DO NOTHING
            """, new { subscriberId, briefingId, now = _time.GetUtcNow().ToUnixTimeMilliseconds() }) == 1;
    }

    /// <inheritdoc/>
    public void RecordAttemptFailed(long subscriberId, string briefingId, string error) =>
        Update("UPDATE send_log SET attempts = attempts + 1, last_error = @error WHERE subscriber_id = @subscriberId AND briefing_id = @briefingId AND status = 'sending'",
            new { subscriberId, briefingId, error = SubscriberRules.Truncate(error) });

    /// <inheritdoc/>
    public void MarkSent(long subscriberId, string briefingId) =>
        Update("UPDATE send_log SET status = 'sent', attempts = attempts + 1, sent_at = @now WHERE subscriber_id = @subscriberId AND briefing_id = @briefingId AND status = 'sending'",
            new { subscriberId, briefingId, now = _time.GetUtcNow().ToUnixTimeMilliseconds() });

    /// <inheritdoc/>
    public void MarkFailed(long subscriberId, string briefingId) =>
        Update("UPDATE send_log SET status = 'failed' WHERE subscriber_id = @subscriberId AND briefing_id = @briefingId AND status = 'sending'",
            new { subscriberId, briefingId });

    /// <inheritdoc/>
    public void MarkSkipped(long subscriberId, string briefingId, string reason) =>
        Update("UPDATE send_log SET status = 'skipped', last_error = @reason WHERE subscriber_id = @subscriberId AND briefing_id = @briefingId AND status = 'sending'",
            new { subscriberId, briefingId, reason });

    /// <inheritdoc/>
    public SendLogEntry? GetSendLog(long subscriberId, string briefingId)
    {
        using var c = _store.Open();
        return c.Query<SendLogRow>($"{SendLogSelect} WHERE l.subscriber_id = @subscriberId AND l.briefing_id = @briefingId", new { subscriberId, briefingId })
            .Select(r => r.ToEntry()).SingleOrDefault();
    }

    /// <inheritdoc/>
    public IReadOnlyList<SendLogEntry> ListSendLog(string? briefingId = null, int limit = 500)
    {
        using var c = _store.Open();
        var p = new DynamicParameters();
        p.Add("briefingId", briefingId, System.Data.DbType.String);
        p.Add("limit", limit);
        return c.Query<SendLogRow>($"{SendLogSelect} WHERE @briefingId::text IS NULL OR l.briefing_id = @briefingId ORDER BY l.claimed_at DESC, l.subscriber_id LIMIT @limit", p)
            .Select(r => r.ToEntry()).ToList();
    }

    /// <inheritdoc/>
    public IReadOnlyList<SendLogEntry> ListProblems(TimeSpan staleAfter)
    {
        using var c = _store.Open();
        var before = (_time.GetUtcNow() - staleAfter).ToUnixTimeMilliseconds();
        return c.Query<SendLogRow>($"{SendLogSelect} WHERE l.status = 'failed' OR (l.status = 'sending' AND l.claimed_at < @before) ORDER BY l.claimed_at DESC, l.subscriber_id",
            new { before }).Select(r => r.ToEntry()).ToList();
    }

    private void Update(string sql, object args)
    {
        using var c = _store.Open();
        c.Execute(sql, args);
    }

    private const string SendLogSelect = """
        SELECT l.subscriber_id, s.email, l.briefing_id, l.status, l.attempts, l.last_error, l.claimed_at, l.sent_at
        FROM send_log l JOIN subscribers s ON s.id = l.subscriber_id
        """;

    private static string Json(IReadOnlyList<string> values) => JsonSerializer.Serialize(values, StorageJsonContext.Default.IReadOnlyListString);

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
        public bool active { get; set; }
        public long created_at { get; set; }

        public Subscriber ToSubscriber() => new(id, email, time_zone, schedule, List(sections), List(tickers), unsubscribe_token,
            active, DateTimeOffset.FromUnixTimeMilliseconds(created_at));

        private static IReadOnlyList<string> List(string json) => JsonSerializer.Deserialize(json, StorageJsonContext.Default.IReadOnlyListString) ?? [];
    }

    private sealed class SendLogRow
    {
        public long subscriber_id { get; set; }
        public string email { get; set; } = "";
        public string briefing_id { get; set; } = "";
        public string status { get; set; } = "";
        public int attempts { get; set; }
        public string? last_error { get; set; }
        public long claimed_at { get; set; }
        public long? sent_at { get; set; }

        public SendLogEntry ToEntry() => new(subscriber_id, email, briefing_id,
            Enum.Parse<SendStatus>(status, ignoreCase: true), attempts, last_error,
            DateTimeOffset.FromUnixTimeMilliseconds(claimed_at), sent_at is { } s ? DateTimeOffset.FromUnixTimeMilliseconds(s) : null);
    }
#pragma warning restore CA1812, IDE1006
}
