using FinNews.Hosting;
using Npgsql;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace FinNews.Tests.Support;

/// <summary>
/// A fresh PostgreSQL database on the server named by FINNEWS_POSTGRES_CONNECTION, created for one test class and
/// dropped after it. Nothing happens when the variable is unset (the class's tests are then skipped).
/// </summary>
public sealed class PostgresDatabase : IDisposable
{
    private readonly Lazy<string> _connectionString;
    private string? _name;

    public PostgresDatabase() => _connectionString = new Lazy<string>(Create);

    /// <summary>The server's connection string from the environment, or null.</summary>
    public static string? ServerConnection => Environment.GetEnvironmentVariable(StorageOptions.PostgresConnectionVariable) is { Length: > 0 } s ? s : null;

    /// <summary>Why PostgreSQL tests are skipped, or null when they run.</summary>
    public static string? SkipReason => ServerConnection is null
        ? $"{StorageOptions.PostgresConnectionVariable} is not set; no PostgreSQL server to test against (.ci/run sets it)"
        : null;

    /// <summary>The connection string of this class's own database (created on first use).</summary>
    public string ConnectionString => _connectionString.Value;

    private string Create()
    {
        _name = "finnews_test_" + Guid.NewGuid().ToString("N")[..12];
        using (var c = new NpgsqlConnection(ServerConnection))
        {
            c.Open();
            using var create = new NpgsqlCommand($"CREATE DATABASE {_name}", c);
            create.ExecuteNonQuery();
        }

        return new NpgsqlConnectionStringBuilder(ServerConnection) { Database = _name }.ToString();
    }

    public void Dispose()
    {
        if (_name is null)
        {
            return;
        }

        NpgsqlConnection.ClearAllPools();
        using var c = new NpgsqlConnection(ServerConnection);
        c.Open();
        using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {_name} WITH (FORCE)", c);
        drop.ExecuteNonQuery();
    }
}

/// <summary>Marks a test class whose tests need PostgreSQL: <see cref="StorageFactAttribute"/> skips them without a server.</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class RequiresPostgresAttribute : Attribute;

/// <summary>
/// A fact of a storage suite shared by several backends: it runs in every subclass, and is skipped (with the reason) in a
/// class marked <see cref="RequiresPostgresAttribute"/> when FINNEWS_POSTGRES_CONNECTION is unset.
/// </summary>
[XunitTestCaseDiscoverer("FinNews.Tests.Support.StorageFactDiscoverer", "FinNews.Tests")]
[AttributeUsage(AttributeTargets.Method)]
public sealed class StorageFactAttribute : FactAttribute;

/// <summary>Discovers <see cref="StorageFactAttribute"/> tests per concrete class (see there).</summary>
public sealed class StorageFactDiscoverer(IMessageSink diagnosticMessageSink) : IXunitTestCaseDiscoverer
{
    public IEnumerable<IXunitTestCase> Discover(ITestFrameworkDiscoveryOptions discoveryOptions, ITestMethod testMethod, IAttributeInfo factAttribute)
    {
        var display = discoveryOptions.MethodDisplayOrDefault();
        var displayOptions = discoveryOptions.MethodDisplayOptionsOrDefault();
        if (testMethod.TestClass.Class.GetCustomAttributes(typeof(RequiresPostgresAttribute)).Any() && PostgresDatabase.SkipReason is { } reason)
        {
            yield return new XunitSkippedDataRowTestCase(diagnosticMessageSink, display, displayOptions, testMethod, reason);
            yield break;
        }

        yield return new XunitTestCase(diagnosticMessageSink, display, displayOptions, testMethod);
    }
}
