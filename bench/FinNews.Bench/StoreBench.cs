using System.Globalization;
using FinNews.Core.Feeds;
using FinNews.Core.Storage.Postgres;
using FinNews.Core.Storage.Sqlite;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace FinNews.Bench;

/// <summary>
/// The store phase of ingest (parse → normalize → <c>CommitFetch</c>, one transaction per feed) on SQLite and on
/// PostgreSQL, side by side in one run over the same generated documents: a fresh SQLite file and a fresh PostgreSQL
/// database (created on the server of FINNEWS_POSTGRES_CONNECTION, dropped afterwards). Rounds alternate the order so
/// neither backend always runs on a warmer machine; a second pass over the same documents must insert nothing.
/// </summary>
internal static class StoreBench
{
    public static void Run(int items, int feeds, int rounds, string directory)
    {
        var server = Environment.GetEnvironmentVariable("FINNEWS_POSTGRES_CONNECTION")
            ?? throw new InvalidOperationException("FINNEWS_POSTGRES_CONNECTION is not set: the PostgreSQL side needs a server.");
        var root = RepoPaths.Root();
        var watchlist = Watchlist.Load(Path.Combine(root, "config", "watchlist.json"));
        var normalizer = new ArticleNormalizer(new TickerTagger(watchlist));
        Console.WriteLine(RepoPaths.Machine());
        Console.WriteLine($"postgres: {PostgresStore.Describe(server)}, {ServerVersion(server)}");

        var definitions = Enumerable.Range(0, feeds)
            .Select(f => new FeedDefinition(string.Create(CultureInfo.InvariantCulture, $"bench-{f:D3}"), $"{IngestBench.Outlets[f % IngestBench.Outlets.Length]} {f}",
                string.Create(CultureInfo.InvariantCulture, $"https://feeds{f}.bench.test/markets.rss")))
            .ToList();
        var random = new Random(42);
        var documents = Enumerable.Range(0, feeds).Select(f => IngestBench.Generate(definitions[f], f, items / feeds + (f < items % feeds ? 1 : 0), watchlist, random)).ToList();
        Console.WriteLine(RepoPaths.I($"generated {feeds} RSS 2.0 documents, {items:N0} items, {documents.Sum(d => (long)d.Length) / 1e6:F1} MB (held in memory)"));

        var results = new List<(string Backend, int Round, IngestBench.PassResult First, IngestBench.PassResult Second)>();
        for (var round = 1; round <= rounds; round++)
        {
            foreach (var backend in round % 2 == 1 ? new[] { "sqlite", "postgres" } : ["postgres", "sqlite"])
            {
                Console.WriteLine(RepoPaths.I($"round {round}, {backend} (loadavg {RepoPaths.LoadAverage()})"));
                var (first, second) = backend == "sqlite"
                    ? OnSqlite(directory, definitions, documents, normalizer)
                    : OnPostgres(server, definitions, documents, normalizer);
                results.Add((backend, round, first, second));
            }
        }

        Console.WriteLine();
        Console.WriteLine("| backend | round | items | store phase s | items/s | second pass inserted |");
        Console.WriteLine("|---|---|---|---|---|---|");
        foreach (var r in results)
        {
            Console.WriteLine(RepoPaths.I($"| {r.Backend} | {r.Round} | {r.First.Items:N0} | {r.First.Seconds:F1} | {r.First.Items / r.First.Seconds:F0} | {r.Second.Inserted} |"));
        }

        foreach (var backend in new[] { "sqlite", "postgres" })
        {
            var rates = results.Where(r => r.Backend == backend).Select(r => r.First.Items / r.First.Seconds).Order().ToList();
            Console.WriteLine(RepoPaths.I($"{backend}: median {rates[rates.Count / 2]:F0} items/s over {rates.Count} rounds (min {rates[0]:F0}, max {rates[^1]:F0})"));
        }

        Console.WriteLine(RepoPaths.I($"loadavg at end {RepoPaths.LoadAverage()}"));
    }

    private static (IngestBench.PassResult, IngestBench.PassResult) OnSqlite(string directory, List<FeedDefinition> definitions, List<byte[]> documents, ArticleNormalizer normalizer)
    {
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }

        Directory.CreateDirectory(directory);
        var store = new SqliteStore(Path.Combine(directory, "store.db"));
        store.Initialize();
        store.SyncFeeds(definitions);
        var first = IngestBench.Store(store, normalizer, definitions, documents, "sqlite pass 1");
        var second = IngestBench.Store(store, normalizer, definitions, documents, "sqlite pass 2 (same documents)");
        SqliteConnection.ClearAllPools();
        return (first, second);
    }

    private static (IngestBench.PassResult, IngestBench.PassResult) OnPostgres(string server, List<FeedDefinition> definitions, List<byte[]> documents, ArticleNormalizer normalizer)
    {
        var name = "finnews_bench_" + Guid.NewGuid().ToString("N")[..8];
        Admin(server, $"CREATE DATABASE {name}");
        try
        {
            using var store = new PostgresStore(new NpgsqlConnectionStringBuilder(server) { Database = name }.ToString(),
                WriterBench.Clock);
            store.Initialize();
            store.SyncFeeds(definitions);
            var first = IngestBench.Store(store, normalizer, definitions, documents, "postgres pass 1");
            var second = IngestBench.Store(store, normalizer, definitions, documents, "postgres pass 2 (same documents)");
            return (first, second);
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            Admin(server, $"DROP DATABASE IF EXISTS {name} WITH (FORCE)");
        }
    }

    private static void Admin(string server, string sql)
    {
        using var c = new NpgsqlConnection(server);
        c.Open();
        using var command = new NpgsqlCommand(sql, c);
        command.ExecuteNonQuery();
    }

    private static string ServerVersion(string server)
    {
        using var c = new NpgsqlConnection(server);
        c.Open();
        return "PostgreSQL " + c.ServerVersion;
    }
}
