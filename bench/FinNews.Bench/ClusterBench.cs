using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using Dapper;
using FinNews.Core.Feeds;
using FinNews.Core.Storage.Postgres;
using FinNews.Core.Storage.Sqlite;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace FinNews.Bench;

/// <summary>
/// Ingest throughput of real <c>finnews worker</c> processes: one worker on SQLite (in-memory scheduler, the embedded
/// layout), one and two workers on PostgreSQL (store and Quartz's clustered job store), side by side in one run. The
/// feeds are generated RSS documents served over loopback HTTP by this process, so every poll is a real fetch.
/// </summary>
/// <remarks>
/// Per configuration and round: a fresh data folder (and a fresh PostgreSQL database), the workers started with an empty
/// feed list and waited for (their first feed-list sync done, so no start-up jitter applies), then every feed added to
/// the store at once, as <c>feeds add</c> would. The feed-list sync (every second here) schedules one poll per feed right
/// away; each poll fetches, parses, stores, then drains the index and clusters stories, as the worker always does.
/// Timed: from the first feed request the server sees (the first poll firing) until the store holds every item (counts
/// read from the store every 100 ms), and until every item is also indexed.
/// </remarks>
internal static class ClusterBench
{
    private static readonly string[] BuildConfigurations = ["Release", "Debug"];

    private sealed record Setup(string Name, string Storage, int Workers);

    private sealed record Result(string Config, int Round, int Items, double StoredSeconds, double IndexedSeconds, string Polls,
        double WorkerCpuSeconds, double MachineBusy, string LoadBefore, string LoadAfter);

    public static async Task RunAsync(int feeds, int itemsPerFeed, int rounds, int hosts, string directory, string? finnews, string configs)
    {
        var server = Environment.GetEnvironmentVariable("FINNEWS_POSTGRES_CONNECTION")
            ?? throw new InvalidOperationException("FINNEWS_POSTGRES_CONNECTION is not set: the PostgreSQL configurations need a server.");
        var root = RepoPaths.Root();
        var dll = finnews ?? BuildConfigurations.Select(c => Path.Combine(root, "src", "FinNews", "bin", c, "net10.0", "finnews.dll")).FirstOrDefault(File.Exists)
            ?? throw new FileNotFoundException("finnews.dll not found: run `dotnet build -c Release src/FinNews` first, or pass --finnews PATH.");
        var setups = configs.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(c =>
        {
            var parts = c.Split(':');
            return new Setup(c, parts[0], int.Parse(parts[1], CultureInfo.InvariantCulture));
        }).ToList();

        var watchlist = Watchlist.Load(Path.Combine(root, "config", "watchlist.json"));
        var random = new Random(42);
        var documents = Enumerable.Range(0, feeds).Select(f => IngestBench.Generate(
            new FeedDefinition(Id(f), $"{IngestBench.Outlets[f % IngestBench.Outlets.Length]} {f}", string.Create(CultureInfo.InvariantCulture, $"https://feeds{f}.bench.test/markets.rss")),
            f, itemsPerFeed, watchlist, random)).ToList();
        await using var feedServer = await FeedServer.StartAsync(documents, hosts);
        var expected = feeds * itemsPerFeed;
        Console.WriteLine(RepoPaths.Machine());
        Console.WriteLine($"worker: {dll}");
        Console.WriteLine(RepoPaths.I($"postgres: {PostgresStore.Describe(server)}; {feeds} feeds x {itemsPerFeed} items = {expected:N0} items, {documents.Sum(d => (long)d.Length) / 1e6:F1} MB of RSS over HTTP from {hosts} loopback hosts ({string.Join(", ", feedServer.Hosts.Take(3))}, ...)"));

        var results = new List<Result>();
        for (var round = 1; round <= rounds; round++)
        {
            var order = round % 2 == 1 ? setups : Enumerable.Reverse(setups).ToList();
            foreach (var setup in order)
            {
                Console.WriteLine(RepoPaths.I($"round {round}, {setup.Name} (loadavg {RepoPaths.LoadAverage()})"));
                var result = await RunOneAsync(setup, round, dll, root, Path.Combine(directory, $"{setup.Storage}-{setup.Workers}-r{round}"), server, feedServer, feeds, itemsPerFeed);
                results.Add(result);
                Console.WriteLine(RepoPaths.I(
                    $"  stored {result.Items:N0} in {result.StoredSeconds:F1} s = {result.Items / result.StoredSeconds:F0} items/s; indexed too after {result.IndexedSeconds:F1} s; polls per node {result.Polls}; worker CPU {result.WorkerCpuSeconds:F1} s; machine busy {result.MachineBusy:P0}"));
            }
        }

        Console.WriteLine();
        Console.WriteLine("| config | round | items | first fetch → all stored, s | items/s | → all indexed, s | polls per node | worker CPU s | machine CPU busy | loadavg before → after |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|");
        foreach (var r in results)
        {
            Console.WriteLine(RepoPaths.I(
                $"| {r.Config} | {r.Round} | {r.Items:N0} | {r.StoredSeconds:F1} | {r.Items / r.StoredSeconds:F0} | {r.IndexedSeconds:F1} | {r.Polls} | {r.WorkerCpuSeconds:F1} | {r.MachineBusy:P0} | {r.LoadBefore} → {r.LoadAfter} |"));
        }

        Console.WriteLine();
        foreach (var setup in setups)
        {
            var mine = results.Where(r => r.Config == setup.Name).ToList();
            static double Median(IEnumerable<double> values)
            {
                var sorted = values.Order().ToList();
                return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
            }

            var rates = mine.Select(r => r.Items / r.StoredSeconds).ToList();
            Console.WriteLine(RepoPaths.I(
                $"{setup.Name}: median {Median(rates):F0} items/s stored (min {rates.Min():F0}, max {rates.Max():F0}); median {Median(mine.Select(r => r.Items / r.IndexedSeconds)):F0} items/s stored and indexed; median worker CPU {Median(mine.Select(r => r.WorkerCpuSeconds)):F1} s over {mine.Count} rounds"));
        }

        Console.WriteLine(RepoPaths.I($"loadavg at end {RepoPaths.LoadAverage()}"));
    }

    private static string Id(int f) => string.Create(CultureInfo.InvariantCulture, $"bench-{f:D3}");

    private static async Task<Result> RunOneAsync(Setup setup, int round, string dll, string repoRoot, string folder, string server, FeedServer feedServer, int feeds, int itemsPerFeed)
    {
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }

        // A config folder of its own: the repository's settings, the watchlist and samples, and an empty feed list.
        var config = Path.Combine(folder, "config");
        CopyDirectory(Path.Combine(repoRoot, "config"), config);
        await File.WriteAllTextAsync(Path.Combine(config, "feeds.json"), """{ "feeds": [] }""");
        var postgres = setup.Storage == "postgres";
        string? database = null;
        string? connection = null;
        if (postgres)
        {
            database = "finnews_bench_" + Guid.NewGuid().ToString("N")[..8];
            await AdminAsync(server, $"CREATE DATABASE {database}");
            connection = new NpgsqlConnectionStringBuilder(server) { Database = database }.ToString();
        }

        var nodes = new List<Worker>();
        try
        {
            for (var n = 1; n <= setup.Workers; n++)
            {
                nodes.Add(Worker.Start(dll, config, $"node-{n}", postgres, connection));
            }

            await WaitUntilAsync(TimeSpan.FromMinutes(3), "the workers start", nodes, () => Task.FromResult(nodes.All(w => w.Started)));
            if (postgres)
            {
                // Every node checked in, and the feed-list sync ran once (on an empty list): feeds added from now on are
                // scheduled right away, without the start-up spread.
                await WaitUntilAsync(TimeSpan.FromMinutes(2), "the cluster is up", nodes, async () =>
                    await ScalarAsync<long>(connection!, "SELECT count(*) FROM qrtz_scheduler_state") == setup.Workers
                    && await ScalarAsync<long>(connection!, "SELECT count(*) FROM finnews_job_runs WHERE job_name = 'feed-schedule' AND finished_at IS NOT NULL") > 0);
            }
            else
            {
                // The in-memory scheduler keeps no run log: its first feed-list sync fires at start; give it time to run.
                await Task.Delay(TimeSpan.FromSeconds(5));
            }

            var storePath = Path.Combine(folder, "data", "finnews.db");
            var store = postgres ? null : new SqliteStore(storePath);
            using var pgStore = postgres ? new PostgresStore(connection!, WriterBench.Clock) : null;
            IFeedStore feedStore = postgres ? pgStore! : store!;
            Func<Task<(long Count, long Unindexed)>> counts = postgres
                ? async () => await PgCountsAsync(connection!)
                : () => Task.FromResult(SqliteCounts(storePath));
            if (store is not null)
            {
                store.Initialize();
            }

            var loadBefore = RepoPaths.LoadAverage();
            var cpuBefore = MachineCpu();
            feedServer.Reset();
            var at = WriterBench.Clock.GetUtcNow();
            for (var f = 0; f < feeds; f++)
            {
                feedStore.TryAddFeed(new FeedDefinition(Id(f), $"Bench feed {f}", feedServer.Url(f), IntervalMinutes: 60, Internal: true), at);
            }

            var expected = feeds * itemsPerFeed;
            double? stored = null;
            double? indexed = null;
            var watch = Stopwatch.StartNew();
            while (indexed is null)
            {
                var (count, unindexed) = await counts();
                var since = feedServer.SecondsSinceFirstRequest();
                if (stored is null && count >= expected)
                {
                    stored = since;
                }

                if (stored is not null && unindexed == 0)
                {
                    indexed = since;
                }

                if (watch.Elapsed > TimeSpan.FromMinutes(20))
                {
                    throw new TimeoutException(RepoPaths.I($"{setup.Name}: {count:N0} of {expected:N0} stored, {unindexed:N0} unindexed after 20 min"));
                }

                foreach (var node in nodes.Where(n => n.HasExited))
                {
                    throw new InvalidOperationException($"{node.Id} exited:\n{node.Tail}");
                }

                await Task.Delay(100);
            }

            var cpu = nodes.Sum(n => n.CpuSeconds);
            var busy = MachineBusy(cpuBefore, MachineCpu());
            var loadAfter = RepoPaths.LoadAverage();

            // Exactly what was served, once: no duplicates, no lost feed counts.
            var (final, _) = await counts();
            if (final != expected)
            {
                throw new InvalidOperationException(RepoPaths.I($"{setup.Name}: {final} articles stored, {expected} expected"));
            }

            var wrongTotals = feedStore.ListFeedStates().Count(s => s.Id.StartsWith("bench-", StringComparison.Ordinal) && s.ItemsTotal != itemsPerFeed);
            if (wrongTotals > 0)
            {
                throw new InvalidOperationException($"{setup.Name}: {wrongTotals} feeds with a wrong item total");
            }

            var polls = postgres
                ? string.Join(" / ", (await QueryAsync<(string Node, long Polls)>(connection!,
                    "SELECT instance_id, count(*) FROM finnews_job_runs WHERE job_group = 'feeds' GROUP BY instance_id ORDER BY instance_id")).Select(p => p.Polls))
                : feedServer.Requests.ToString(CultureInfo.InvariantCulture);
            return new Result(setup.Name, round, expected, stored!.Value, indexed.Value, polls, cpu, busy, loadBefore, loadAfter);
        }
        finally
        {
            foreach (var node in nodes)
            {
                await node.StopAsync();
            }

            SqliteConnection.ClearAllPools();
            NpgsqlConnection.ClearAllPools();
            if (database is not null)
            {
                await AdminAsync(server, $"DROP DATABASE IF EXISTS {database} WITH (FORCE)");
            }
        }
    }

    private static async Task<(long, long)> PgCountsAsync(string connection)
    {
        await using var c = new NpgsqlConnection(connection);
        return await c.QuerySingleAsync<(long, long)>("SELECT count(*), count(*) FILTER (WHERE NOT indexed) FROM articles");
    }

    private static (long, long) SqliteCounts(string path)
    {
        if (!File.Exists(path))
        {
            return (0, 0);
        }

        using var c = new SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=False");
        c.Open();
        c.Execute("PRAGMA busy_timeout = 5000");
        return c.QuerySingle<(long, long)>("SELECT count(*), coalesce(sum(indexed = 0), 0) FROM articles");
    }

    private static async Task<T> ScalarAsync<T>(string connection, string sql)
    {
        await using var c = new NpgsqlConnection(connection);
        try
        {
            return (await c.ExecuteScalarAsync<T>(sql))!;
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return default!; // not migrated yet
        }
    }

    private static async Task<List<T>> QueryAsync<T>(string connection, string sql)
    {
        await using var c = new NpgsqlConnection(connection);
        return (await c.QueryAsync<T>(sql)).ToList();
    }

    private static async Task AdminAsync(string server, string sql)
    {
        await using var c = new NpgsqlConnection(server);
        await c.OpenAsync();
        await using var command = new NpgsqlCommand(sql, c);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task WaitUntilAsync(TimeSpan limit, string what, List<Worker> nodes, Func<Task<bool>> condition)
    {
        var watch = Stopwatch.StartNew();
        while (!await condition())
        {
            foreach (var node in nodes.Where(n => n.HasExited))
            {
                throw new InvalidOperationException($"{node.Id} exited while waiting until {what}:\n{node.Tail}");
            }

            if (watch.Elapsed > limit)
            {
                throw new TimeoutException($"waiting until {what}:\n{string.Join("\n", nodes.Select(n => n.Tail))}");
            }

            await Task.Delay(200);
        }
    }

    /// <summary>Busy and total jiffies of the whole machine (/proc/stat), every process, ours and not.</summary>
    private static (long Busy, long Total) MachineCpu()
    {
        var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(v => long.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        var idle = fields[3] + fields[4];
        var total = fields.Take(8).Sum();
        return (total - idle, total);
    }

    private static double MachineBusy((long Busy, long Total) before, (long Busy, long Total) after) =>
        after.Total == before.Total ? 0 : (double)(after.Busy - before.Busy) / (after.Total - before.Total);

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }

        foreach (var dir in Directory.GetDirectories(from))
        {
            CopyDirectory(dir, Path.Combine(to, Path.GetFileName(dir)));
        }
    }

    /// <summary>One <c>finnews worker</c> child process; its console is drained and the tail kept for error messages.</summary>
    private sealed class Worker
    {
        private readonly Process _process;
        private readonly ConcurrentQueue<string> _tail = new();
        private volatile bool _started;
        private double _cpu;

        private Worker(string id, Process process)
        {
            Id = id;
            _process = process;
        }

        public string Id { get; }

        public bool Started => _started;

        public bool HasExited => _process.HasExited;

        public string Tail => $"--- {Id} ---\n" + string.Join('\n', _tail);

        /// <summary>CPU time the process used so far (user + system).</summary>
        public double CpuSeconds
        {
            get
            {
                if (!_process.HasExited)
                {
                    _process.Refresh();
                    _cpu = _process.TotalProcessorTime.TotalSeconds;
                }

                return _cpu;
            }
        }

        /// <summary>
        /// A worker node. Its settings are ordinary configuration keys, given as environment variables: the store and the
        /// scheduler (memory for SQLite, the PostgreSQL cluster otherwise), a data folder per node (each keeps its own
        /// embedded search index, as separate machines would), a feed-list sync every second, no interval index job
        /// (each poll drains the index itself), a log file per node.
        /// </summary>
        public static Worker Start(string dll, string config, string id, bool postgres, string? connection)
        {
            var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            info.ArgumentList.Add("exec");
            info.ArgumentList.Add(dll);
            info.ArgumentList.Add("worker");
            var environment = new Dictionary<string, string?>
            {
                ["DOTNET_NOLOGO"] = "1",
                ["FINNEWS_CONFIG_DIR"] = config,
                ["FINNEWS_Storage__Provider"] = postgres ? "postgres" : "sqlite",
                ["FINNEWS_Scheduler__Store"] = postgres ? "postgres" : "memory",
                ["FINNEWS_POSTGRES_CONNECTION"] = connection,
                ["FINNEWS_Scheduler__InstanceId"] = id,
                ["FINNEWS_Scheduler__FeedListSyncSeconds"] = "1",
                ["FINNEWS_Scheduler__IndexIntervalSeconds"] = "3600",
                // No daily briefing or market-data load in the middle of a measurement.
                ["FINNEWS_Briefing__Schedule"] = "0 0 0 1 1 ? 2099",
                ["FINNEWS_Scheduler__MarketDataSchedule"] = "0 0 0 1 1 ? 2099",
                ["FINNEWS_FinNews__DataDirectory"] = postgres ? $"data-{id}" : "data",
                ["FINNEWS_Serilog__WriteTo__1__Args__path"] = $"logs/{id}-.log",
            };
            foreach (var (name, value) in environment)
            {
                if (value is null)
                {
                    info.Environment.Remove(name);
                }
                else
                {
                    info.Environment[name] = value;
                }
            }

            var worker = new Worker(id, new Process { StartInfo = info });
            worker._process.OutputDataReceived += (_, e) => worker.Add(e.Data);
            worker._process.ErrorDataReceived += (_, e) => worker.Add(e.Data);
            worker._process.Start();
            worker._process.BeginOutputReadLine();
            worker._process.BeginErrorReadLine();
            return worker;
        }

        /// <summary>SIGTERM, as an orchestrator stops a node; killed if it has not exited after 30 s.</summary>
        public async Task StopAsync()
        {
            if (_process.HasExited)
            {
                return;
            }

            _ = CpuSeconds;
            using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync();
            }

            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                await _process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
            }
        }

        private void Add(string? line)
        {
            if (line is null)
            {
                return;
            }

            if (line.Contains("Application started", StringComparison.Ordinal))
            {
                _started = true;
            }

            _tail.Enqueue(line);
            while (_tail.Count > 40)
            {
                _tail.TryDequeue(out _);
            }
        }
    }

    /// <summary>
    /// The generated feeds over HTTP on loopback addresses 127.0.0.1 .. 127.0.0.N (feed f on host f mod N), so the
    /// per-host politeness limit (Polling:MaxConcurrentPerHost, 2) is not what is measured; records the first request.
    /// </summary>
    private sealed class FeedServer : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly List<byte[]> _documents;
        private long _first;
        private int _requests;

        private FeedServer(WebApplication app, List<byte[]> documents)
        {
            _app = app;
            _documents = documents;
        }

        public List<string> Hosts { get; private set; } = [];

        public int Requests => Volatile.Read(ref _requests);

        public string Url(int feed) => $"{Hosts[feed % Hosts.Count]}/feeds/{feed}.rss";

        public void Reset()
        {
            Interlocked.Exchange(ref _first, 0);
            Interlocked.Exchange(ref _requests, 0);
        }

        /// <summary>Seconds since the first feed request after <see cref="Reset"/> (0 before it).</summary>
        public double SecondsSinceFirstRequest()
        {
            var first = Interlocked.Read(ref _first);
            return first == 0 ? 0 : Stopwatch.GetElapsedTime(first).TotalSeconds;
        }

        public static async Task<FeedServer> StartAsync(List<byte[]> documents, int hosts)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.ConfigureKestrel(k =>
            {
                for (var h = 1; h <= hosts; h++)
                {
                    k.Listen(IPAddress.Parse(string.Create(CultureInfo.InvariantCulture, $"127.0.0.{h}")), 0);
                }
            });
            var app = builder.Build();
            var server = new FeedServer(app, documents);
            app.MapGet("/feeds/{feed:int}.rss", (int feed, HttpContext context) =>
            {
                Interlocked.CompareExchange(ref server._first, Stopwatch.GetTimestamp(), 0);
                Interlocked.Increment(ref server._requests);
                return feed < 0 || feed >= server._documents.Count
                    ? Results.NotFound()
                    : Results.Bytes(server._documents[feed], "application/rss+xml; charset=utf-8");
            });
            await app.StartAsync();
            server.Hosts = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses
                .OrderBy(a => new Uri(a).Host.Split('.').Select(p => p.PadLeft(3, '0')).Aggregate(string.Concat), StringComparer.Ordinal).ToList();
            return server;
        }

        public async ValueTask DisposeAsync() => await _app.DisposeAsync();
    }
}
