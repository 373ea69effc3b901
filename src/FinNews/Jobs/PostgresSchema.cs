using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Dapper;
using Npgsql;

namespace FinNews.Jobs;

/// <summary>
/// The PostgreSQL schema the clustered scheduler needs (Quartz's job store tables and our job-run log), as numbered
/// scripts embedded from Jobs/Schema/*.sql, applied at start in order and recorded in <c>finnews_schema_history</c>.
/// </summary>
/// <remarks>
/// Several nodes may start at once: the whole run holds a transaction-scoped advisory lock, so one node applies what
/// is missing and the others wait, then find nothing to do. Each script runs in that one transaction with its history
/// row, so a failure leaves the database as it was. A script that was changed after it was applied is refused (its
/// checksum no longer matches): schema changes are new scripts, never edits.
/// </remarks>
public sealed class PostgresSchema(string connectionString, TimeProvider time)
{
    /// <summary>A numbered script: version, name (the file name without the number) and SQL.</summary>
    public sealed record Migration(int Version, string Name, string Sql)
    {
        public string Checksum { get; } = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Sql.ReplaceLineEndings("\n"))));
    }

    /// <summary>Arbitrary, fixed: the advisory lock every node takes while migrating.</summary>
    private const long LockKey = 0x46696E4E657773; // "FinNews"

    private const string ResourcePrefix = "FinNews.Jobs.Schema.";

    /// <summary>The embedded scripts in version order.</summary>
    public static IReadOnlyList<Migration> Migrations { get; } = LoadMigrations();

    /// <summary>Applies the scripts not yet applied; returns the versions applied by this call (none when up to date).</summary>
    /// <exception cref="InvalidDataException">An applied script was changed, or the database is ahead of this build.</exception>
    public async Task<IReadOnlyList<int>> ApplyAsync(CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_xact_lock(@key)", new { key = LockKey }, tx, cancellationToken: cancellationToken));
        await connection.ExecuteAsync(new CommandDefinition(
            """
            CREATE TABLE IF NOT EXISTS finnews_schema_history (
              version integer PRIMARY KEY,
              name text NOT NULL,
              checksum text NOT NULL,
              applied_at timestamptz NOT NULL
            )
            """, transaction: tx, cancellationToken: cancellationToken));
        var applied = (await connection.QueryAsync<(int Version, string Checksum)>(new CommandDefinition(
            "SELECT version, checksum FROM finnews_schema_history", transaction: tx, cancellationToken: cancellationToken)))
            .ToDictionary(r => r.Version, r => r.Checksum);

        var known = Migrations.Select(m => m.Version).ToHashSet();
        var ahead = applied.Keys.Where(v => !known.Contains(v)).Order().ToList();
        if (ahead.Count > 0)
        {
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                $"The PostgreSQL schema has migration {ahead[0]}, which this FinNews build does not know (it knows 1..{Migrations[^1].Version}): run the newer build, or restore the database."));
        }

        var done = new List<int>();
        foreach (var migration in Migrations)
        {
            if (applied.TryGetValue(migration.Version, out var checksum))
            {
                if (!string.Equals(checksum, migration.Checksum, StringComparison.Ordinal))
                {
                    throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                        $"PostgreSQL schema migration {migration.Version} ({migration.Name}) was changed after it was applied: add a new migration instead of editing one."));
                }

                continue;
            }

            await connection.ExecuteAsync(new CommandDefinition(migration.Sql, transaction: tx, cancellationToken: cancellationToken));
            await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO finnews_schema_history (version, name, checksum, applied_at) VALUES (@Version, @Name, @Checksum, @At)",
                new { migration.Version, migration.Name, migration.Checksum, At = time.GetUtcNow() }, tx, cancellationToken: cancellationToken));
            done.Add(migration.Version);
        }

        await tx.CommitAsync(cancellationToken);
        return done;
    }

    /// <summary>Where the database is, for messages: host, port and database, never the user or password.</summary>
    public static string Describe(string connectionString)
    {
        try
        {
            var b = new NpgsqlConnectionStringBuilder(connectionString);
            return string.Create(CultureInfo.InvariantCulture, $"{b.Host}:{b.Port}/{b.Database}");
        }
        catch (ArgumentException)
        {
            return "(unreadable connection string)";
        }
    }

    private static List<Migration> LoadMigrations()
    {
        var assembly = typeof(PostgresSchema).Assembly;
        var list = new List<Migration>();
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal)))
        {
            // FinNews.Jobs.Schema.001_quartz_tables.sql: the number before the first '_' is the version.
            var file = name[ResourcePrefix.Length..^".sql".Length];
            var cut = file.IndexOf('_', StringComparison.Ordinal);
            var version = int.Parse(file[..cut].TrimStart('_'), NumberStyles.None, CultureInfo.InvariantCulture);
            list.Add(new Migration(version, file[(cut + 1)..], Read(assembly, name)));
        }

        list.Sort((a, b) => a.Version.CompareTo(b.Version));
        return list;
    }

    private static string Read(Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream(name)!;
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }
}

/// <summary>
/// Applies <see cref="PostgresSchema"/> when the host starts, before the scheduler (registered ahead of Quartz's hosted
/// service). A database that is not reachable yet (a container still starting) is retried for about a minute.
/// </summary>
public sealed class PostgresSchemaMigrator(PostgresSchema schema, string where, TimeProvider time, ILogger<PostgresSchemaMigrator> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var applied = await schema.ApplyAsync(cancellationToken);
                if (applied.Count > 0)
                {
                    logger.LogInformation("PostgreSQL schema at {Database}: applied migrations {Versions}", where, applied);
                }

                return;
            }
            catch (NpgsqlException ex) when (attempt < 12 && ex.IsTransient)
            {
                logger.LogWarning("PostgreSQL at {Database} not reachable ({Error}); retrying in 5 s (attempt {Attempt} of 12)", where, ex.Message, attempt);
                await Task.Delay(TimeSpan.FromSeconds(5), time, cancellationToken);
            }
            catch (NpgsqlException ex)
            {
                throw new InvalidOperationException($"PostgreSQL at {where} (FINNEWS_POSTGRES_CONNECTION) could not be prepared for the scheduler: {ex.Message}", ex);
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
