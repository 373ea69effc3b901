using System.Globalization;
using System.Security.Cryptography;
using Dapper;
using FinNews.Core.Access;
using Npgsql;

namespace FinNews.Core.Storage.Postgres;

/// <summary>API keys on PostgreSQL (table created by <see cref="PostgresStore.Initialize"/>), with <see cref="ApiKeyRules"/> as <see cref="Sqlite.SqliteApiKeyStore"/> applies them.</summary>
public sealed class PostgresApiKeyStore : IApiKeyStore
{
    private static readonly long LastUsedResolutionMs = (long)ApiKeyRules.LastUsedResolution.TotalMilliseconds;

    private readonly PostgresStore _store;
    private readonly TimeProvider _time;

    public PostgresApiKeyStore(PostgresStore store, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(store);
        _store = store;
        _time = time;
    }

    /// <inheritdoc/>
    public CreatedApiKey Create(string name, string scope, int requestsPerMinute = 120)
    {
        var trimmed = ApiKeyRules.ValidateNew(name, scope, requestsPerMinute);
        var key = ApiKeyRules.NewKey();
        using var c = _store.Open();
        var row = c.QuerySingle<ApiKeyRow>($"""
            INSERT INTO api_keys(name, prefix, hash, scope, created_at, requests_per_minute)
            VALUES (@name, @prefix, @hash, @scope, @now, @rpm) RETURNING {Columns}
            """, new { name = trimmed, prefix = key[..ApiKeyRules.PrefixLength], hash = ApiKeyRules.Hash(key), scope, now = Now(), rpm = requestsPerMinute });
        return new CreatedApiKey(key, row.ToKey());
    }

    /// <inheritdoc/>
    public IReadOnlyList<ApiKey> List()
    {
        using var c = _store.Open();
        return c.Query<ApiKeyRow>($"{Select} ORDER BY id").Select(r => r.ToKey()).ToList();
    }

    /// <inheritdoc/>
    public bool Revoke(string idOrPrefix)
    {
        var value = (idOrPrefix ?? "").Trim();
        using var c = _store.Open();
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

    /// <inheritdoc/>
    public ApiKey? Authenticate(string? presentedKey)
    {
        if (string.IsNullOrEmpty(presentedKey) || presentedKey.Length < ApiKeyRules.PrefixLength || presentedKey.Length > 200)
        {
            return null;
        }

        var hash = ApiKeyRules.Hash(presentedKey);
        using var c = _store.Open();
        ApiKeyRow? match = null;
        foreach (var row in c.Query<ApiKeyRow>($"{Select} WHERE prefix = @prefix", new { prefix = presentedKey[..ApiKeyRules.PrefixLength] }))
        {
            if (CryptographicOperations.FixedTimeEquals(row.hash, hash))
            {
                match = row;
            }
        }

        return match is null || match.revoked_at is not null ? null : Touch(c, match);
    }

    /// <inheritdoc/>
    public ApiKey? FindActive(long id)
    {
        using var c = _store.Open();
        var row = c.QuerySingleOrDefault<ApiKeyRow>($"{Select} WHERE id = @id", new { id });
        return row is null || row.revoked_at is not null ? null : Touch(c, row);
    }

    private ApiKey Touch(NpgsqlConnection c, ApiKeyRow row)
    {
        var now = Now();
        if (row.last_used_at is not { } last || now - last >= LastUsedResolutionMs)
        {
            c.Execute("UPDATE api_keys SET last_used_at = @now WHERE id = @id AND (last_used_at IS NULL OR last_used_at <= @before)",
                new { id = row.id, now, before = now - LastUsedResolutionMs });
            row.last_used_at = now;
        }

        return row.ToKey();
    }

    private long Now() => _time.GetUtcNow().ToUnixTimeMilliseconds();

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
        public int requests_per_minute { get; set; }

        public ApiKey ToKey() => new(id, name, prefix, scope, DateTimeOffset.FromUnixTimeMilliseconds(created_at),
            last_used_at is { } u ? DateTimeOffset.FromUnixTimeMilliseconds(u) : null,
            revoked_at is { } r ? DateTimeOffset.FromUnixTimeMilliseconds(r) : null, requests_per_minute);
    }
#pragma warning restore CA1812, IDE1006, CA1819
}
