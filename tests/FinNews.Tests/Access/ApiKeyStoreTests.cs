using Dapper;
using FinNews.Core.Access;
using FinNews.Core.Storage.Sqlite;
using FinNews.Tests.Support;
using Microsoft.Data.Sqlite;

namespace FinNews.Tests.Access;

public sealed class ApiKeyStoreTests : IDisposable
{
    private readonly TestEnvironment _env = TestEnvironment.Create();
    private readonly ManualTimeProvider _clock = new(new DateTimeOffset(2025, 3, 4, 9, 0, 0, TimeSpan.Zero));
    private string _connectionString = "";

    public void Dispose() => _env.Dispose();

    private SqliteApiKeyStore NewStore()
    {
        var sqlite = new SqliteStore(_env.DatabasePath);
        sqlite.Initialize();
        _connectionString = sqlite.ConnectionString;
        var store = new SqliteApiKeyStore(sqlite.ConnectionString, _clock);
        store.Initialize();
        store.Initialize(); // idempotent
        return store;
    }

    [Fact]
    public void A_created_key_is_shown_once_and_only_its_hash_and_prefix_are_stored()
    {
        var store = NewStore();

        var created = store.Create("ci bot", ApiScopes.Reader);

        created.Key.Should().MatchRegex("^fn_[A-Za-z0-9_-]{43}$", "fn_ + 32 random bytes in base64url");
        created.Record.Prefix.Should().Be(created.Key[..8]);
        created.Record.Should().BeEquivalentTo(new { Name = "ci bot", Scope = "reader", RequestsPerMinute = 120, LastUsedAt = (DateTimeOffset?)null, RevokedAt = (DateTimeOffset?)null });
        created.Record.CreatedAt.Should().Be(_clock.Now);

        using var c = new SqliteConnection(_connectionString);
        var row = c.QuerySingle("SELECT * FROM api_keys");
        var cells = ((IDictionary<string, object>)row).Values.Select(v => v switch
        {
            byte[] b => Convert.ToHexString(b),
            null => "",
            _ => Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture)!,
        }).ToList();
        var secret = created.Key[8..];
        cells.Should().NotContain(v => v.Contains(secret, StringComparison.Ordinal), "the key itself is never stored");
        ((byte[])row.hash).Should().Equal(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(created.Key)));
        store.List().Single().Should().Be(created.Record);
        store.Create("second", ApiScopes.Admin).Key.Should().NotBe(created.Key);
    }

    [Fact]
    public void Authenticate_accepts_the_key_and_refuses_a_wrong_or_revoked_one()
    {
        var store = NewStore();
        var admin = store.Create("ops", ApiScopes.Admin, 10);
        var reader = store.Create("ui", ApiScopes.Reader);

        store.Authenticate(admin.Key)!.Id.Should().Be(admin.Record.Id);
        store.Authenticate(admin.Key)!.Scope.Should().Be("admin");
        store.Authenticate(admin.Key[..^1] + (admin.Key[^1] == 'A' ? 'B' : 'A')).Should().BeNull("same prefix, different key");
        store.Authenticate("fn_nothing-like-a-key").Should().BeNull();
        store.Authenticate("").Should().BeNull();
        store.Authenticate(null).Should().BeNull();

        store.Revoke(admin.Record.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)).Should().BeTrue();
        store.Authenticate(admin.Key).Should().BeNull();
        store.Revoke(reader.Record.Prefix).Should().BeTrue("revocable by the prefix shown in listings");
        store.Authenticate(reader.Key).Should().BeNull();
        store.Revoke("999").Should().BeFalse();
        store.Revoke("fn_zzzzz").Should().BeFalse();
        store.List().Should().OnlyContain(k => k.IsRevoked && k.RevokedAt == _clock.Now);
    }

    [Fact]
    public void Last_used_is_written_at_most_once_a_minute()
    {
        var store = NewStore();
        var key = store.Create("ui", ApiScopes.Reader);
        var first = _clock.Now;

        store.Authenticate(key.Key)!.LastUsedAt.Should().Be(first);
        _clock.Now = first.AddSeconds(30);
        store.Authenticate(key.Key);
        store.List().Single().LastUsedAt.Should().Be(first);
        _clock.Now = first.AddSeconds(61);
        store.Authenticate(key.Key);
        store.List().Single().LastUsedAt.Should().Be(first.AddSeconds(61));
    }

    [Fact]
    public void The_editor_scope_sits_between_reader_and_admin()
    {
        var store = NewStore();
        var editor = store.Create("desk", "editor");

        store.Authenticate(editor.Key)!.Scope.Should().Be("editor");
        ApiScopes.Satisfies("editor", "reader").Should().BeTrue();
        ApiScopes.Satisfies("editor", "editor").Should().BeTrue();
        ApiScopes.Satisfies("editor", "admin").Should().BeFalse();
        ApiScopes.Satisfies("admin", "editor").Should().BeTrue();
        ApiScopes.Satisfies("reader", "editor").Should().BeFalse();
        var unknown = () => store.Create("bot", "owner");
        unknown.Should().Throw<ApiKeyValidationException>().Which.Message.Should().Contain("'reader', 'editor', 'admin'");
    }

    [Fact]
    public void A_key_table_from_before_the_editor_scope_is_migrated_keeping_every_key_and_id()
    {
        var sqlite = new SqliteStore(_env.DatabasePath);
        sqlite.Initialize();
        const string oldKey = "fn_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG";
        using (var c = new SqliteConnection(sqlite.ConnectionString))
        {
            // The table as the first release created it.
            c.Execute("""
                CREATE TABLE api_keys (
                  id INTEGER PRIMARY KEY AUTOINCREMENT,
                  name TEXT NOT NULL,
                  prefix TEXT NOT NULL,
                  hash BLOB NOT NULL UNIQUE,
                  scope TEXT NOT NULL CHECK (scope IN ('reader', 'admin')),
                  created_at INTEGER NOT NULL,
                  last_used_at INTEGER,
                  revoked_at INTEGER,
                  requests_per_minute INTEGER NOT NULL CHECK (requests_per_minute BETWEEN 1 AND 100000)
                );
                CREATE INDEX ix_api_keys_prefix ON api_keys(prefix);
                INSERT INTO api_keys(id, name, prefix, hash, scope, created_at, revoked_at, requests_per_minute)
                VALUES (4, 'ops', @prefix, @hash, 'admin', 1000, NULL, 30), (7, 'old bot', 'fn_zzzzz', X'00', 'reader', 2000, 3000, 120);
                UPDATE sqlite_sequence SET seq = 9 WHERE name = 'api_keys';
                """, new { prefix = oldKey[..8], hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(oldKey)) });
        }

        var store = new SqliteApiKeyStore(sqlite.ConnectionString, _clock);
        store.Initialize();
        store.Initialize();

        var ops = store.Authenticate(oldKey);
        ops.Should().NotBeNull("existing keys keep working");
        ops!.Should().BeEquivalentTo(new { Id = 4L, Name = "ops", Scope = "admin", RequestsPerMinute = 30 });
        store.List().Select(k => (k.Id, k.IsRevoked)).Should().Equal((4L, false), (7L, true));
        var editor = store.Create("desk", "editor");
        editor.Record.Id.Should().Be(10, "ids of earlier keys, revoked or deleted, are never handed out again");
        using var check = new SqliteConnection(sqlite.ConnectionString);
        check.ExecuteScalar<string>("SELECT sql FROM sqlite_master WHERE name = 'api_keys'").Should().Contain("'editor'");
        check.ExecuteScalar<long>("SELECT COUNT(*) FROM sqlite_master WHERE name = 'ix_api_keys_prefix'").Should().Be(1);
    }

    [Theory]
    [InlineData("", "reader", 120, "name = ''")]
    [InlineData("   ", "reader", 120, "name = '   '")]
    [InlineData("bot", "superuser", 120, "scope = 'superuser': unknown scope")]
    [InlineData("bot", "Admin", 120, "scope = 'Admin'")]
    [InlineData("bot", "reader", 0, "requests_per_minute = 0")]
    [InlineData("bot", "reader", 100001, "requests_per_minute = 100001")]
    public void A_bad_key_request_is_refused_naming_the_field_and_value(string name, string scope, int rpm, string expected)
    {
        var store = NewStore();

        var act = () => store.Create(name, scope, rpm);

        act.Should().Throw<ApiKeyValidationException>().Which.Message.Should().Contain(expected);
        store.List().Should().BeEmpty();
    }

    [Fact]
    public void The_rate_limiter_allows_the_keys_limit_per_fixed_minute()
    {
        var limiter = new ApiKeyRateLimiter(_clock);
        var key = new ApiKey(1, "k", "fn_abcde", ApiScopes.Reader, _clock.Now, null, null, 2);
        var other = key with { Id = 2 };

        limiter.TryAcquire(key, out _).Should().BeTrue();
        _clock.Now = _clock.Now.AddSeconds(20);
        limiter.TryAcquire(key, out _).Should().BeTrue();
        limiter.TryAcquire(key, out var wait).Should().BeFalse();
        wait.Should().Be(TimeSpan.FromSeconds(40));
        limiter.TryAcquire(other, out _).Should().BeTrue("each key has its own window");
        _clock.Now = _clock.Now.AddSeconds(40);
        limiter.TryAcquire(key, out _).Should().BeTrue("a new window");
    }
}
