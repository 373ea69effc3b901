using System.CommandLine;
using System.Globalization;
using FinNews.Core.Storage.Postgres;
using FinNews.Core.Storage.Sqlite;
using FinNews.Hosting;
using Spectre.Console;

namespace FinNews.Cli;

public static partial class FinNewsCli
{
    /// <summary>
    /// `migrate --to postgres [--batch N] [--restart]`: copies the embedded installation (data/finnews.db, every table)
    /// into the PostgreSQL database of FINNEWS_POSTGRES_CONNECTION, resumably, and prints the counts of both sides.
    /// Exit 0 when every table's counts agree, 1 when one differs.
    /// </summary>
    private static Command MigrateCommand()
    {
        var to = new Option<string>("--to") { Description = "Target store: postgres", Required = true };
        to.AcceptOnlyFromAmong("postgres");
        var batch = new Option<int>("--batch") { Description = "Rows per batch (one transaction and checkpoint each; default 1000)", DefaultValueFactory = _ => 1000 };
        batch.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 1 or > 100_000)
            {
                r.AddError(string.Create(CultureInfo.InvariantCulture, $"--batch {r.GetValueOrDefault<int>()}: use 1 to 100000 rows per batch."));
            }
        });
        var restart = new Option<bool>("--restart") { Description = "Empty the PostgreSQL tables and copy everything again (else a stopped copy resumes)" };
        var command = new Command("migrate", "Copy the embedded SQLite installation into PostgreSQL (then set Storage:Provider = postgres)") { to, batch, restart };
        command.SetAction((parse, ct) => Guard(() =>
        {
            using var host = AppHost.BuildTool(Paths(parse), Clock, parse.GetValue(VerboseOption));
            var path = StorageServices.SqlitePath(host.Services);
            if (!File.Exists(path))
            {
                throw new FileNotFoundException($"No embedded installation to copy: {path} does not exist.");
            }

            // Open the embedded stores first: an installation from an older release gets every table and column.
            var sqlite = new SqliteStore(path);
            sqlite.Initialize();
            new SqliteDeliveryStore(sqlite.ConnectionString, Clock).Initialize();
            new SqliteApiKeyStore(sqlite.ConnectionString, Clock).Initialize();
            using var postgres = new PostgresStore(StorageServices.PostgresConnection(), Clock);
            postgres.Initialize();
            Console.WriteLine($"Copying {path} into {postgres.Display}{(parse.GetValue(restart) ? " (from the start)" : "")}.");

            var watch = System.Diagnostics.Stopwatch.StartNew();
            var shown = new Dictionary<string, long>(StringComparer.Ordinal);
            var counts = new PostgresMigration(sqlite.ConnectionString, postgres).Copy(parse.GetValue(batch), parse.GetValue(restart), (table, done, total) =>
            {
                // One line when a table starts, then about every 10 %, and when it is done.
                var step = Math.Max(1, total / 10);
                if (!shown.TryGetValue(table, out var last) || done / step != last / step || done == total && last != total)
                {
                    shown[table] = done;
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {table}: {done}/{total}"));
                }
            }, ct);

            var table = new Table().AddColumns("table", "sqlite", "postgres", "");
            foreach (var c in counts)
            {
                table.AddRow(c.Table, c.Source.ToString(CultureInfo.InvariantCulture), c.Target.ToString(CultureInfo.InvariantCulture), c.Matches ? "ok" : "[red]DIFFERENT[/]");
            }

            AnsiConsole.Write(table);
            var ok = counts.All(c => c.Matches);
            Console.WriteLine(ok
                ? string.Create(CultureInfo.InvariantCulture, $"Verified: every table has the same rows in both ({watch.Elapsed.TotalSeconds:0.0} s). Set Storage:Provider = postgres to use it.")
                : "Counts differ: run the command again to resume, or with --restart to copy from the start (stop the embedded installation first).");
            return Task.FromResult(ok ? 0 : 1);
        }));
        return command;
    }
}
