using Npgsql;

namespace FinNews.SystemTests.Support;

/// <summary>
/// The real PostgreSQL the cluster tests use, named by <see cref="Variable"/> (a connection string for a role that may
/// create databases; .ci/run installs PostgreSQL 15, starts it and sets the variable). Each test gets a database of its
/// own, dropped afterwards, so runs never see each other's schedules.
/// </summary>
public sealed class TestPostgres : IAsyncDisposable
{
    public const string Variable = "FINNEWS_TEST_POSTGRES";

    private readonly string _admin;

    private TestPostgres(string admin, string database)
    {
        _admin = admin;
        Database = database;
        ConnectionString = new NpgsqlConnectionStringBuilder(admin) { Database = database, Pooling = false }.ConnectionString;
    }

    /// <summary>The connection string of this test's database.</summary>
    public string ConnectionString { get; }

    public string Database { get; }

    /// <summary>Null when the variable is set; else why the PostgreSQL tests are skipped.</summary>
    public static string? SkipReason { get; } = string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(Variable))
        ? $"No PostgreSQL: set {Variable} to a connection string (a role with CREATEDB), e.g. 'Host=127.0.0.1;Username=finnews;Password=finnews;Database=postgres' (.ci/run sets it up)."
        : null;

    public static async Task<TestPostgres> CreateDatabaseAsync()
    {
        var admin = Environment.GetEnvironmentVariable(Variable) ?? throw new InvalidOperationException(SkipReason);
        var pg = new TestPostgres(admin, "finnews_test_" + Guid.NewGuid().ToString("N")[..12]);
        await using var c = new NpgsqlConnection(admin);
        await c.OpenAsync();
        await using var cmd = new NpgsqlCommand($"CREATE DATABASE {pg.Database}", c);
        await cmd.ExecuteNonQueryAsync();
        return pg;
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var c = new NpgsqlConnection(_admin);
        await c.OpenAsync();
        await using var cmd = new NpgsqlCommand($"DROP DATABASE IF EXISTS {Database} WITH (FORCE)", c);
        await cmd.ExecuteNonQueryAsync();
    }
}

/// <summary>A test that needs the real PostgreSQL: skipped, with the reason, only when <see cref="TestPostgres.Variable"/> is not set.</summary>
public sealed class PostgresFactAttribute : FactAttribute
{
    public PostgresFactAttribute()
    {
        Skip = TestPostgres.SkipReason;
    }
}
