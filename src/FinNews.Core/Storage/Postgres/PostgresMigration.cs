using System.Globalization;
using Dapper;
using Microsoft.Data.Sqlite;
using Npgsql;
using NpgsqlTypes;

namespace FinNews.Core.Storage.Postgres;

/// <summary>One table of a copy: rows in the embedded file and in PostgreSQL after the copy.</summary>
public sealed record TableCount(string Table, long Source, long Target)
{
    public bool Matches => Source == Target;
}

/// <summary>
/// Copies an embedded installation (the SQLite file) into PostgreSQL, every table, in batches that each commit with a
/// checkpoint: a copy that stops (crash, Ctrl+C) resumes after the last committed batch, and rows are never written
/// twice (the checkpoint moves in the batch's transaction, and inserts skip rows whose key is already there).
/// </summary>
/// <remarks>
/// Rows are read in SQLite rowid order, so a batch is a stable range. Copy with the embedded installation stopped: rows
/// changed in the file after their batch was copied are not copied again.
/// </remarks>
public sealed class PostgresMigration
{
    /// <summary>
    /// Every table, parents before children (send_log refers to subscribers). A table the embedded file never created
    /// (tuning_jobs appears with the first <c>tune</c> command) counts as empty.
    /// </summary>
    public static readonly IReadOnlyList<string> Tables = ["feeds", "articles", "market_bars", "briefings", "subscribers", "send_log", "api_keys", "tuning_jobs"];

    private readonly string _sqliteConnectionString;
    private readonly PostgresStore _target;

    /// <param name="sqliteConnectionString">The embedded file, with every table created (open its stores first).</param>
    /// <param name="target">The PostgreSQL store, migrated to the current schema.</param>
    public PostgresMigration(string sqliteConnectionString, PostgresStore target)
    {
        _sqliteConnectionString = sqliteConnectionString;
        _target = target;
    }

    /// <summary>
    /// Copies (or resumes copying) every table, then compares row counts.
    /// </summary>
    /// <param name="batchSize">Rows per batch (one transaction and one checkpoint each).</param>
    /// <param name="restart">Empty the PostgreSQL tables and the checkpoint first, and copy everything.</param>
    /// <param name="progress">Called after each batch with (table, rows of it copied, rows of it in the file).</param>
    /// <param name="cancellationToken">Stops between batches (the committed batches stay).</param>
    /// <exception cref="InvalidDataException">The target holds rows that no earlier copy wrote (without <paramref name="restart"/>).</exception>
    public IReadOnlyList<TableCount> Copy(int batchSize = 1000, bool restart = false, Action<string, long, long>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        using var source = new SqliteConnection(_sqliteConnectionString);
        source.Open();
        using (var target = _target.Open())
        {
            if (restart)
            {
                target.Execute($"TRUNCATE {string.Join(", ", Tables)}, migrate_progress RESTART IDENTITY CASCADE");
            }
            else if (target.ExecuteScalar<long>("SELECT COUNT(*) FROM migrate_progress") == 0 && Tables.FirstOrDefault(t => target.ExecuteScalar<bool>($"SELECT EXISTS (SELECT 1 FROM {t})")) is { } used)
            {
                throw new InvalidDataException(
                    $"The PostgreSQL database already holds data (table {used}) that no copy wrote; copy into an empty database, or pass --restart to empty it first.");
            }
        }

        foreach (var table in Tables)
        {
            CopyTable(source, table, batchSize, progress, cancellationToken);
        }

        using (var target = _target.Open())
        {
            // Ids were copied as they were: later inserts continue after the highest.
            foreach (var table in new[] { "subscribers", "api_keys" })
            {
                target.Execute($"SELECT setval(pg_get_serial_sequence('{table}', 'id'), GREATEST(COALESCE(MAX(id), 0), 1), MAX(id) IS NOT NULL) FROM {table}");
            }
        }

        return Verify();
    }

    /// <summary>Row counts of every table in the file and in PostgreSQL.</summary>
    public IReadOnlyList<TableCount> Verify()
    {
        using var source = new SqliteConnection(_sqliteConnectionString);
        source.Open();
        using var target = _target.Open();
        return Tables.Select(t => new TableCount(t, SourceCount(source, t), target.ExecuteScalar<long>($"SELECT COUNT(*) FROM {t}")))
            .ToList();
    }

    private static long SourceCount(SqliteConnection source, string table) =>
        SourceHas(source, table) ? source.ExecuteScalar<long>($"SELECT COUNT(*) FROM {table}") : 0;

    private static bool SourceHas(SqliteConnection source, string table) =>
        source.ExecuteScalar<long>("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = @table", new { table }) > 0;

    private void CopyTable(SqliteConnection source, string table, int batchSize, Action<string, long, long>? progress, CancellationToken cancellationToken)
    {
        if (!SourceHas(source, table))
        {
            progress?.Invoke(table, 0, 0);
            return;
        }

        var total = source.ExecuteScalar<long>($"SELECT COUNT(*) FROM {table}");
        using var target = _target.Open();
        var types = target.Query<(string Column, string Type)>(
            "SELECT column_name AS Column, data_type AS Type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = @table",
            new { table }).ToDictionary(c => c.Column, c => c.Type, StringComparer.Ordinal);
        var (lastRowId, copied) = target.QueryFirstOrDefault<(long LastRowId, long Copied)?>(
            "SELECT last_rowid AS LastRowId, copied AS Copied FROM migrate_progress WHERE table_name = @table", new { table }) ?? (0, 0);
        progress?.Invoke(table, copied, total);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var read = source.CreateCommand();
            read.CommandText = $"SELECT rowid AS __rowid, * FROM {table} WHERE rowid > $after ORDER BY rowid LIMIT $limit";
            read.Parameters.AddWithValue("$after", lastRowId);
            read.Parameters.AddWithValue("$limit", batchSize);
            using var reader = read.ExecuteReader();
            var columns = Enumerable.Range(1, reader.FieldCount - 1).Select(reader.GetName).Where(types.ContainsKey).ToList();
            var rows = new List<object?[]>();
            var batchLast = lastRowId;
            while (reader.Read())
            {
                batchLast = reader.GetInt64(0);
                rows.Add(columns.Select(c => reader.IsDBNull(reader.GetOrdinal(c)) ? null : reader.GetValue(reader.GetOrdinal(c))).ToArray());
            }

            if (rows.Count == 0)
            {
                return;
            }

            using var tx = target.BeginTransaction();
            var inserted = Insert(target, tx, table, columns, types, rows);
            target.Execute("""
                INSERT INTO migrate_progress(table_name, last_rowid, copied) VALUES (@table, @last, @inserted)
                ON CONFLICT (table_name) DO UPDATE SET last_rowid = excluded.last_rowid, copied = migrate_progress.copied + excluded.copied
                """, new { table, last = batchLast, inserted = (long)inserted }, tx);
            tx.Commit();
            (lastRowId, copied) = (batchLast, copied + inserted);
            progress?.Invoke(table, copied, total);
        }
    }

    // One multi-row INSERT per batch; a row whose key is already there (a batch committed before a crash cannot be
    // one, but a row added to the target by hand can) is skipped, never duplicated.
    private static int Insert(NpgsqlConnection target, NpgsqlTransaction tx, string table, List<string> columns,
        Dictionary<string, string> types, List<object?[]> rows) =>
        // A statement takes at most 65,535 parameters.
        rows.Chunk(Math.Max(1, 60_000 / Math.Max(1, columns.Count))).Sum(chunk => InsertRows(target, tx, table, columns, types, chunk));

    private static int InsertRows(NpgsqlConnection target, NpgsqlTransaction tx, string table, List<string> columns,
        Dictionary<string, string> types, object?[][] rows)
    {
        using var command = new NpgsqlCommand { Connection = target, Transaction = tx };
        var values = new List<string>(rows.Length);
        for (var r = 0; r < rows.Length; r++)
        {
            var names = new string[columns.Count];
            for (var c = 0; c < columns.Count; c++)
            {
                names[c] = string.Create(CultureInfo.InvariantCulture, $"@p{r}_{c}");
                command.Parameters.Add(Parameter(names[c], types[columns[c]], rows[r][c]));
            }

            values.Add($"({string.Join(", ", names)})");
        }

        command.CommandText = $"INSERT INTO {table} ({string.Join(", ", columns.Select(c => $"\"{c}\""))}) VALUES {string.Join(", ", values)} ON CONFLICT DO NOTHING";
        return command.ExecuteNonQuery();
    }

    // SQLite's loose types to PostgreSQL's column types: 0/1 to boolean, 'yyyy-MM-dd' to date, JSON text to jsonb.
    private static NpgsqlParameter Parameter(string name, string type, object? value) => type switch
    {
        "boolean" => new NpgsqlParameter(name, NpgsqlDbType.Boolean) { Value = value is null ? DBNull.Value : Convert.ToInt64(value, CultureInfo.InvariantCulture) != 0 },
        "date" => new NpgsqlParameter(name, NpgsqlDbType.Date)
        {
            Value = value is null ? DBNull.Value : DateOnly.ParseExact(Convert.ToString(value, CultureInfo.InvariantCulture)!, "yyyy-MM-dd", CultureInfo.InvariantCulture),
        },
        "jsonb" => new NpgsqlParameter(name, NpgsqlDbType.Jsonb) { Value = value ?? DBNull.Value },
        "integer" => new NpgsqlParameter(name, NpgsqlDbType.Integer) { Value = value is null ? DBNull.Value : Convert.ToInt32(value, CultureInfo.InvariantCulture) },
        "bigint" => new NpgsqlParameter(name, NpgsqlDbType.Bigint) { Value = value is null ? DBNull.Value : Convert.ToInt64(value, CultureInfo.InvariantCulture) },
        "double precision" => new NpgsqlParameter(name, NpgsqlDbType.Double) { Value = value is null ? DBNull.Value : Convert.ToDouble(value, CultureInfo.InvariantCulture) },
        "bytea" => new NpgsqlParameter(name, NpgsqlDbType.Bytea) { Value = value ?? DBNull.Value },
        _ => new NpgsqlParameter(name, NpgsqlDbType.Text) { Value = value is null ? DBNull.Value : Convert.ToString(value, CultureInfo.InvariantCulture)! },
    };
}
