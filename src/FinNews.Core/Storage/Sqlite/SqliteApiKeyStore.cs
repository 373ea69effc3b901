using System.Globalization;
using System.Security.Cryptography;
using Dapper;
using FinNews.Core.Access;
using Microsoft.Data.Sqlite;

namespace FinNews.Core.Storage.Sqlite;

/// <summary>
/// API keys with a scope and a per-key rate limit, in the table <c>api_keys</c> of the system-of-record SQLite file
/// (<see cref="SqliteStore.ConnectionString"/>).
/// </summary>
/// <remarks>The key rules (format, hashing, validation) are <see cref="ApiKeyRules"/>'s, shared with PostgreSQL.</remarks>
public sealed class SqliteApiKeyStore : IApiKeyStore
{
    private static readonly TimeSpan LastUsedResolution = ApiKeyRules.LastUsedResolution;

    private readonly string _connectionString;
    private readonly TimeProvider _time;

    public SqliteApiKeyStore(string connectionString, TimeProvider time)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        _connectionString = connectionString;
        _time = time;
    }

    /// <summary>
    /// Creates the table if missing and brings an older one up to date (the <c>editor</c> scope); safe on every start and
    /// from several processes at once.
    /// </summary>
    /// <remarks>
    /// Tables made before the editor scope existed have <c>CHECK (scope IN ('reader', 'admin'))</c>. SQLite cannot alter
    /// a CHECK constraint, so such a table is copied into a new one with the current constraint, in one transaction that
    /// keeps every key, its id and the id sequence (ids of revoked keys are never handed out again).
    /// </remarks>
    public void Initialize()
    {
        using var c = Open();
        c.Execute(TableSql("api_keys") + "CREATE INDEX IF NOT EXISTS ix_api_keys_prefix ON api_keys(prefix);");
        if (IsCurrent(c, null))
        {
            return;
        }

        using var tx = c.BeginTransaction(); // BEGIN IMMEDIATE: one process migrates, the others then see it done
        if (IsCurrent(c, tx))
        {
            return;
        }

        var sequence = c.ExecuteScalar<long?>("SELECT seq FROM sqlite_sequence WHERE name = 'api_keys'", transaction: tx) ?? 0;
        c.Execute("DROP TABLE IF EXISTS api_keys_migrating;" + TableSql("api_keys_migrating") + $"""
            INSERT INTO api_keys_migrating({Columns}) SELECT {Columns} FROM api_keys;
            DROP TABLE api_keys;
            ALTER TABLE api_keys_migrating RENAME TO api_keys;
            CREATE INDEX IF NOT EXISTS ix_api_keys_prefix ON api_keys(prefix);
            DELETE FROM sqlite_sequence WHERE name IN ('api_keys', 'api_keys_migrating');
            INSERT INTO sqlite_sequence(name, seq) VALUES ('api_keys', MAX(@sequence, COALESCE((SELECT MAX(id) FROM api_keys), 0)));
            """, new { sequence }, tx);
        tx.Commit();
    }

    // The table as this version defines it; its CHECK names every scope of ApiScopes.All.
    private static string TableSql(string table) => $"""
        CREATE TABLE IF NOT EXISTS {table} (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          name TEXT NOT NULL,
          prefix TEXT NOT NULL,
          hash BLOB NOT NULL UNIQUE,
          scope TEXT NOT NULL CHECK (scope IN ({string.Join(", ", ApiScopes.All.Select(s => $"'{s}'"))})),
          created_at INTEGER NOT NULL,
          last_used_at INTEGER,
          revoked_at INTEGER,
          requests_per_minute INTEGER NOT NULL CHECK (requests_per_minute BETWEEN 1 AND 100000)
        );
        """;

    // True when the stored table's CHECK admits every scope this version knows.
    private static bool IsCurrent(SqliteConnection c, SqliteTransaction? tx)
    {
        var sql = c.ExecuteScalar<string>("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'api_keys'", transaction: tx) ?? "";
        return ApiScopes.All.All(scope => sql.Contains($"'{scope}'", StringComparison.Ordinal));
    }

    /// <summary>Creates a key; the returned plaintext <see cref="CreatedApiKey.Key"/> is shown once and never stored.</summary>
    /// <exception cref="ApiKeyValidationException">A field is invalid; the message names it and its value.</exception>
    public CreatedApiKey Create(string name, string scope, int requestsPerMinute = 120)
    {
        var trimmed = ApiKeyRules.ValidateNew(name, scope, requestsPerMinute);
        var key = ApiKeyRules.NewKey();
        using var c = Open();
        var id = c.ExecuteScalar<long>("""
            INSERT INTO api_keys(name, prefix, hash, scope, created_at, requests_per_minute)
            VALUES (@name, @prefix, @hash, @scope, @now, @rpm);
            SELECT last_insert_rowid();
            """, new { name = trimmed, prefix = key[..ApiKeyRules.PrefixLength], hash = ApiKeyRules.Hash(key), scope, now = Now(), rpm = requestsPerMinute });
        return new CreatedApiKey(key, Get(c, id)!);
    }

    /// <summary>Every key, revoked ones included, by id.</summary>
    public IReadOnlyList<ApiKey> List()
    {
        using var c = Open();
        return c.Query<ApiKeyRow>($"{Select} ORDER BY id").Select(r => r.ToKey()).ToList();
    }

    /// <summary>
    /// Revokes the key with id <paramref name="idOrPrefix"/> (digits) or with that prefix (<c>fn_...</c>); false when no key
    /// matches. Revoking an already revoked key is true and keeps the first revocation time.
    /// </summary>
    /// <exception cref="ApiKeyValidationException">The prefix matches more than one key.</exception>
    public bool Revoke(string idOrPrefix)
    {
        var value = (idOrPrefix ?? "").Trim();
        using var c = Open();
        List<long> ids;
        if (long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
        {
            ids = c.Query<long>("SELECT id FROM api_keys WHERE id = @id", new { id }).ToList();
        }
        else
        {
            var prefix = value.Length > ApiKeyRules.PrefixLength ? value[..ApiKeyRules.PrefixLength] : value;
            ids = prefix.Length == 0 ? [] : c.Query<long>("SELECT id FROM api_keys WHERE prefix = @prefix", new { prefix }).ToList();
        }

        if (ids.Count > 1)
        {
            throw new ApiKeyValidationException("id", $"id = '{idOrPrefix}': the prefix matches {ids.Count} keys; revoke by numeric id.");
        }

        if (ids.Count == 0)
        {
            return false;
        }

        c.Execute("UPDATE api_keys SET revoked_at = COALESCE(revoked_at, @now) WHERE id = @id", new { id = ids[0], now = Now() });
        return true;
    }

    /// <summary>
    /// The key record for a presented key, or null when it is unknown or revoked. Hashes are compared in fixed time;
    /// <see cref="ApiKey.LastUsedAt"/> is written at most once a minute per key.
    /// </summary>
    public ApiKey? Authenticate(string? presentedKey)
    {
        if (string.IsNullOrEmpty(presentedKey) || presentedKey.Length < ApiKeyRules.PrefixLength || presentedKey.Length > 200)
        {
            return null;
        }

        var hash = ApiKeyRules.Hash(presentedKey);
        using var c = Open();
        ApiKeyRow? match = null;
        // Look up by the clear prefix, then compare full hashes in fixed time (a prefix may, rarely, be shared).
        foreach (var row in c.Query<ApiKeyRow>($"{Select} WHERE prefix = @prefix", new { prefix = presentedKey[..ApiKeyRules.PrefixLength] }))
        {
            if (CryptographicOperations.FixedTimeEquals(row.hash, hash))
            {
                match = row;
            }
        }

        return match is null || match.revoked_at is not null ? null : Touch(c, match);
    }

    /// <summary>
    /// The key record with id <paramref name="id"/> for a signed-in page session, or null when it is unknown or revoked
    /// (so revoking a key ends its sessions at once). Updates <see cref="ApiKey.LastUsedAt"/> like <see cref="Authenticate"/>.
    /// </summary>
    public ApiKey? FindActive(long id)
    {
        using var c = Open();
        var row = c.QuerySingleOrDefault<ApiKeyRow>($"{Select} WHERE id = @id", new { id });
        return row is null || row.revoked_at is not null ? null : Touch(c, row);
    }

    // Records use at most once a minute per key, so a busy key does not write on every request.
    private ApiKey Touch(SqliteConnection c, ApiKeyRow row)
    {
        var now = Now();
        if (row.last_used_at is not { } last || now - last >= (long)LastUsedResolution.TotalMilliseconds)
        {
            c.Execute("UPDATE api_keys SET last_used_at = @now WHERE id = @id AND (last_used_at IS NULL OR last_used_at <= @before)",
                new { id = row.id, now, before = now - (long)LastUsedResolution.TotalMilliseconds });
            row.last_used_at = now;
        }

        return row.ToKey();
    }

    private static ApiKey? Get(SqliteConnection c, long id) =>
        c.Query<ApiKeyRow>($"{Select} WHERE id = @id", new { id }).Select(r => r.ToKey()).SingleOrDefault();

    private long Now() => _time.GetUtcNow().ToUnixTimeMilliseconds();

    private SqliteConnection Open() => SqliteStore.OpenConnection(_connectionString);

    private const string Columns = "id, name, prefix, hash, scope, created_at, last_used_at, revoked_at, requests_per_minute";

    private const string Select = $"SELECT {Columns} FROM api_keys";

#pragma warning disable CA1812, IDE1006, CA1819 // Rows are instantiated by Dapper; property names mirror the snake_case columns.
    private sealed class ApiKeyRow
    {
        public long id { get; set; }
        public string name { get; set; } = "";
        public string prefix { get; set; } = "";
        public byte[] hash { get; set; } = [];
        public string scope { get; set; } = "";
        public long created_at { get; set; }
        public long? last_used_at { get; set; }
        public long? revoked_at { get; set; }
        public long requests_per_minute { get; set; }

        public ApiKey ToKey() => new(id, name, prefix, scope, DateTimeOffset.FromUnixTimeMilliseconds(created_at),
            last_used_at is { } u ? DateTimeOffset.FromUnixTimeMilliseconds(u) : null,
            revoked_at is { } r ? DateTimeOffset.FromUnixTimeMilliseconds(r) : null, (int)requests_per_minute);
    }
#pragma warning restore CA1812, IDE1006, CA1819
}
