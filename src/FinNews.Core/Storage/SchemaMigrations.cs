using System.Data.Common;
using System.Globalization;
using System.Reflection;
using Dapper;

namespace FinNews.Core.Storage;

/// <summary>One numbered schema change.</summary>
/// <param name="Version">Its number; applied in ascending order, each once.</param>
/// <param name="Name">What it does (the script's file name).</param>
/// <param name="Apply">Runs it inside the migration transaction.</param>
public sealed record SchemaMigration(int Version, string Name, Action<DbConnection, DbTransaction> Apply);

/// <summary>
/// Versioned schema migrations for either store: a <c>schema_version</c> table records each applied version, and the
/// pending ones run in order in one transaction, so a failed start leaves the schema as it was and a second start
/// applies nothing twice.
/// </summary>
/// <remarks>
/// Scripts are embedded resources named <c>Storage/Migrations/{Provider}/NNNN_name.sql</c>. The caller holds the lock
/// that keeps two processes from migrating at once (SQLite: the write transaction; PostgreSQL: an advisory lock).
/// </remarks>
public static class SchemaMigrations
{
    /// <summary>The embedded scripts of one provider ("Postgres" or "Sqlite"), by version.</summary>
    public static IReadOnlyList<SchemaMigration> Scripts(string provider)
    {
        var assembly = typeof(SchemaMigrations).Assembly;
        var prefix = $"FinNews.Core.Storage.Migrations.{provider}.";
        return assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(prefix, StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal))
            .Select(resource => (Resource: resource, Name: resource[prefix.Length..^".sql".Length].TrimStart('_')))
            .Select(r => new SchemaMigration(
                int.Parse(r.Name[..r.Name.IndexOf('_', StringComparison.Ordinal)], CultureInfo.InvariantCulture),
                r.Name,
                (c, tx) => c.Execute(Read(assembly, r.Resource), transaction: tx)))
            .OrderBy(m => m.Version)
            .ToList();
    }

    /// <summary>The highest version recorded, or 0 on a database that has none.</summary>
    public static int CurrentVersion(DbConnection connection, DbTransaction? transaction = null)
    {
        ArgumentNullException.ThrowIfNull(connection);
        EnsureTable(connection, transaction);
        return connection.ExecuteScalar<int?>("SELECT MAX(version) FROM schema_version", transaction: transaction) ?? 0;
    }

    /// <summary>Applies, inside <paramref name="transaction"/>, every migration newer than the recorded version; returns those applied.</summary>
    public static IReadOnlyList<SchemaMigration> Apply(DbConnection connection, DbTransaction transaction, IEnumerable<SchemaMigration> migrations, long? appliedAtMs)
    {
        ArgumentNullException.ThrowIfNull(migrations);
        var current = CurrentVersion(connection, transaction);
        var applied = new List<SchemaMigration>();
        foreach (var m in migrations.Where(m => m.Version > current).OrderBy(m => m.Version))
        {
            m.Apply(connection, transaction);
            connection.Execute("INSERT INTO schema_version(version, name, applied_at) VALUES (@Version, @Name, @at)",
                new { m.Version, m.Name, at = appliedAtMs }, transaction);
            applied.Add(m);
        }

        return applied;
    }

    private static void EnsureTable(DbConnection connection, DbTransaction? transaction) => connection.Execute("""
        CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY, name text NOT NULL, applied_at bigint)
        """, transaction: transaction);

    private static string Read(Assembly assembly, string resource)
    {
        using var stream = assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"Migration script {resource} is not embedded.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
