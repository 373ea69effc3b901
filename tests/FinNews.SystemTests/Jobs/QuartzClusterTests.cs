using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Dapper;
using FinNews.SystemTests.Support;
using FinNews.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Npgsql;
using Xunit.Abstractions;

namespace FinNews.SystemTests.Jobs;

/// <summary>
/// Two real `finnews worker` processes sharing Quartz's clustered job store in a real PostgreSQL: every slot of the
/// 1–2 s test triggers fires once across the cluster, a feed poll cut short by SIGKILL is finished by the other node,
/// and the counts come from the store (the job-run log and the articles the poll stored).
/// </summary>
public class QuartzClusterTests(ITestOutputHelper output)
{
    private const string FeedId = "cluster-wire";
    private const int CheckinSeconds = 2;
    private const int CheckinMisfireSeconds = 3;

    [PostgresFact]
    public async Task Two_workers_fire_each_slot_once_and_a_poll_cut_short_by_SIGKILL_is_finished_by_the_other_node()
    {
        var total = Stopwatch.StartNew();
        await using var pg = await TestPostgres.CreateDatabaseAsync();
        using var env = TestEnvironment.Create();
        env.EditFeeds(_ => []);
        env.SetSetting("Scheduler:Store", "postgres");
        env.SetSetting("Scheduler:IndexIntervalSeconds", 1);
        env.SetSetting("Scheduler:FeedListSyncSeconds", 2);
        env.SetSetting("Scheduler:CheckinIntervalSeconds", CheckinSeconds);
        env.SetSetting("Scheduler:CheckinMisfireThresholdSeconds", CheckinMisfireSeconds);
        await using var feed = await SlowFeed.StartAsync();

        var nodes = new Dictionary<string, WorkerNode>(StringComparer.Ordinal);
        try
        {
            foreach (var id in new[] { "node-a", "node-b" })
            {
                nodes[id] = WorkerNode.Start(id, env, pg.ConnectionString);
            }

            // Both nodes checked in: the cluster is up, and slots from here on are shared.
            await WaitUntil(TimeSpan.FromSeconds(90), "both nodes check in to the cluster", nodes.Values, async () =>
                (await QueryAsync<string>(pg, "SELECT instance_name FROM qrtz_scheduler_state")).Count() == 2);
            var clusterUp = await ScalarAsync<DateTime>(pg, "SELECT now()");
            var up = total.Elapsed;

            // An operator adds a feed to the running cluster (the add's own check is answered); one node polls it, and
            // the feed server holds that request.
            feed.Hold = true;
            var add = await RunCliAsync(env, pg.ConnectionString, "feeds", "add", "--id", FeedId, "--url", feed.Url, "--internal", "--interval", "60");
            add.Code.Should().Be(0, add.Err);
            await WaitUntil(TimeSpan.FromSeconds(60), "a node starts polling the added feed", nodes.Values, async () =>
                feed.Held > 0 && (await UnfinishedPolls(pg)).Any());
            var victim = (await UnfinishedPolls(pg)).Single();
            var survivor = nodes.Keys.Single(k => k != victim);

            // SIGKILL mid-job: no shutdown hook runs, the poll's transaction never commits.
            var killedAt = total.Elapsed;
            nodes[victim].Kill();
            feed.Hold = false;

            await WaitUntil(TimeSpan.FromSeconds(60), $"{survivor} recovers and finishes the poll", [nodes[survivor]], async () =>
                (await QueryAsync<string>(pg,
                    "SELECT instance_id FROM finnews_job_runs WHERE job_name = @job AND recovering AND outcome = 'succeeded'",
                    new { job = "feed-" + FeedId })).Any());
            var recovery = total.Elapsed - killedAt;

            // Every other run the victim left unfinished (an index drain, say) is recovered too: on a loaded machine a
            // recovered [DisallowConcurrentExecution] job can wait behind the survivor's own run of it, so wait for it.
            await WaitUntil(TimeSpan.FromSeconds(60), $"{survivor} recovers every run {victim} left unfinished", [nodes[survivor]], async () =>
                !(await QueryAsync<string>(pg,
                    """
                    SELECT u.job_group || '.' || u.job_name FROM finnews_job_runs u
                    WHERE u.finished_at IS NULL AND u.instance_id = @victim AND NOT EXISTS (
                      SELECT 1 FROM finnews_job_runs r WHERE r.recovering AND r.outcome = 'succeeded'
                        AND r.job_group = u.job_group AND r.job_name = u.job_name)
                    """, new { victim })).Any());

            // A few more seconds of slots on the survivor alone, then stop it cleanly.
            await Task.Delay(TimeSpan.FromSeconds(6));
            var clusterEnd = await ScalarAsync<DateTime>(pg, "SELECT now()");
            await nodes[survivor].StopAsync();

            // The poll: cut short on the victim (no end recorded), recovered on the survivor, its items stored once.
            var polls = (await QueryAsync<(string Instance, bool Recovering, string? Outcome)>(pg,
                "SELECT instance_id, recovering, outcome FROM finnews_job_runs WHERE job_name = @job ORDER BY id", new { job = "feed-" + FeedId })).ToList();
            polls.Should().Equal([(victim, false, null), (survivor, true, "succeeded")]);
            CountArticles(env).Should().Be(SlowFeed.Items, "the recovered poll stored the feed's items, once");
            feed.Requests.Should().BeGreaterThanOrEqualTo(3, "the add's check, the poll cut short and the recovered poll each fetched");

            // Every run the victim left unfinished was recovered by the survivor.
            var unfinished = (await QueryAsync<(string Instance, string Job)>(pg,
                "SELECT instance_id, job_group || '.' || job_name FROM finnews_job_runs WHERE finished_at IS NULL")).ToList();
            unfinished.Should().OnlyContain(r => r.Instance == victim);
            foreach (var (_, job) in unfinished)
            {
                (await ScalarAsync<long>(pg, "SELECT count(*) FROM finnews_job_runs WHERE recovering AND outcome = 'succeeded' AND job_group || '.' || job_name = @job", new { job }))
                    .Should().BeGreaterThan(0, $"{job} was recovered");
            }

            // Each slot of the 1 s and 2 s triggers fired exactly once across the cluster, with no slot missed.
            var report = new StringBuilder();
            foreach (var (trigger, interval) in new[] { ("index-interval", 1), ("feed-schedule-interval", 2) })
            {
                var slots = (await QueryAsync<(DateTime Slot, long Runs, string Nodes)>(pg,
                    """
                    SELECT scheduled_fire_time, count(*), string_agg(instance_id, ',')
                    FROM finnews_job_runs
                    WHERE trigger_name = @trigger AND NOT recovering AND scheduled_fire_time BETWEEN @from AND @to
                    GROUP BY scheduled_fire_time ORDER BY scheduled_fire_time
                    """, new { trigger, from = clusterUp, to = clusterEnd.AddSeconds(-interval) })).ToList();
                slots.Should().NotBeEmpty();
                slots.Where(s => s.Runs != 1).Should().BeEmpty($"each {trigger} slot fires once across the cluster");
                var gaps = slots.Zip(slots.Skip(1), (a, b) => (b.Slot - a.Slot).TotalSeconds).Where(d => Math.Abs(d - interval) > 0.01).ToList();
                gaps.Should().BeEmpty($"no {trigger} slot is skipped (slots are {interval} s apart)");
                var perNode = slots.GroupBy(s => s.Nodes).Select(g => $"{g.Key} {g.Count()}");
                report.Append(CultureInfo.InvariantCulture, $"{trigger}: {slots.Count} slots, each fired once ({string.Join(", ", perNode)}); ");
            }

            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"cluster up after {up.TotalSeconds:F1} s; {report}poll killed on {victim}, finished by {survivor} {recovery.TotalSeconds:F1} s after SIGKILL (check-in {CheckinSeconds} s + threshold {CheckinMisfireSeconds} s); total {total.Elapsed.TotalSeconds:F1} s"));
            recovery.Should().BeLessThan(TimeSpan.FromSeconds(CheckinSeconds + CheckinMisfireSeconds + 25), "recovery comes within check-in interval plus threshold (and a loaded machine's slack)");
        }
        finally
        {
            foreach (var node in nodes.Values)
            {
                node.Kill();
                output.WriteLine($"--- {node.Id} ---\n{node.Output}");
            }
        }
    }

    private static async Task<IEnumerable<string>> UnfinishedPolls(TestPostgres pg) =>
        await QueryAsync<string>(pg, "SELECT instance_id FROM finnews_job_runs WHERE job_name = @job AND finished_at IS NULL", new { job = "feed-" + FeedId });

    private static long CountArticles(TestEnvironment env)
    {
        using var c = new SqliteConnection($"Data Source={env.DatabasePath};Mode=ReadOnly;Pooling=False");
        return c.ExecuteScalar<long>("SELECT count(*) FROM articles WHERE feed_id = @FeedId", new { FeedId });
    }

    private static async Task<IEnumerable<T>> QueryAsync<T>(TestPostgres pg, string sql, object? args = null)
    {
        await using var c = new NpgsqlConnection(pg.ConnectionString);
        try
        {
            return (await c.QueryAsync<T>(sql, args)).ToList();
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return []; // the first node has not migrated the schema yet
        }
    }

    private static async Task<T> ScalarAsync<T>(TestPostgres pg, string sql, object? args = null)
    {
        await using var c = new NpgsqlConnection(pg.ConnectionString);
        return (await c.ExecuteScalarAsync<T>(sql, args))!;
    }

    private static async Task WaitUntil(TimeSpan limit, string what, IEnumerable<WorkerNode> nodes, Func<Task<bool>> condition)
    {
        var watch = Stopwatch.StartNew();
        while (!await condition())
        {
            foreach (var node in nodes)
            {
                node.HasExited.Should().BeFalse($"{node.Id} must keep running while waiting until {what}:\n{node.Output}");
            }

            watch.Elapsed.Should().BeLessThan(limit, $"waiting until {what}");
            await Task.Delay(200);
        }
    }

    private static async Task<(int Code, string Out, string Err)> RunCliAsync(TestEnvironment env, string connectionString, params string[] args)
    {
        var info = FinNewsProcess.StartInfo(args);
        WorkerNode.SetEnvironment(info, env, connectionString, "cli");
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>One `finnews worker` process; its console output is kept for the test log.</summary>
    private sealed class WorkerNode
    {
        private readonly Process _process;
        private readonly ConcurrentQueue<string> _lines = new();

        private WorkerNode(string id, Process process)
        {
            Id = id;
            _process = process;
        }

        public string Id { get; }

        public bool HasExited => _process.HasExited;

        public string Output => string.Join('\n', _lines);

        public static WorkerNode Start(string id, TestEnvironment env, string connectionString)
        {
            var info = FinNewsProcess.StartInfo("worker");
            SetEnvironment(info, env, connectionString, id);
            info.Environment["FINNEWS_Scheduler__InstanceId"] = id;
            var node = new WorkerNode(id, new Process { StartInfo = info });
            node._process.OutputDataReceived += (_, e) => node.Add(e.Data);
            node._process.ErrorDataReceived += (_, e) => node.Add(e.Data);
            node._process.Start();
            node._process.BeginOutputReadLine();
            node._process.BeginErrorReadLine();
            return node;
        }

        /// <summary>Config folder and data shared by every node; the connection string from the environment, as in production; a log file per process.</summary>
        public static void SetEnvironment(ProcessStartInfo info, TestEnvironment env, string connectionString, string id)
        {
            info.Environment["FINNEWS_CONFIG_DIR"] = env.ConfigDirectory;
            info.Environment["FINNEWS_POSTGRES_CONNECTION"] = connectionString;
            info.Environment["FINNEWS_Serilog__WriteTo__1__Args__path"] = $"data/logs/{id}-.log";
        }

        /// <summary>SIGKILL (Process.Kill on Unix): the process gets no chance to finish anything.</summary>
        public void Kill()
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit();
            }
        }

        /// <summary>SIGTERM, as an orchestrator stops a container; waits for a clean exit.</summary>
        public async Task StopAsync()
        {
            using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync();
            }

            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await _process.WaitForExitAsync(timeout.Token);
        }

        private void Add(string? line)
        {
            if (line is not null)
            {
                _lines.Enqueue(line);
            }
        }
    }

    /// <summary>An RSS feed on loopback that can hold requests open (a poll in progress) until released.</summary>
    private sealed class SlowFeed : IAsyncDisposable
    {
        public const int Items = 3;

        private readonly WebApplication _app;
        private int _requests;
        private int _held;

        private SlowFeed(WebApplication app) => _app = app;

        public string Url => _app.Urls.First() + "/wire.rss";

        public volatile bool Hold;

        public int Requests => Volatile.Read(ref _requests);

        public int Held => Volatile.Read(ref _held);

        public static async Task<SlowFeed> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            var app = builder.Build();
            var feed = new SlowFeed(app);
            app.MapGet("/wire.rss", async (CancellationToken ct) =>
            {
                // The first request is `feeds add` checking the feed; polls come after it.
                if (Interlocked.Increment(ref feed._requests) > 1 && feed.Hold)
                {
                    Interlocked.Increment(ref feed._held);
                    while (feed.Hold && !ct.IsCancellationRequested)
                    {
                        await Task.Delay(100, CancellationToken.None);
                    }
                }

                return Results.Content(Rss(), "application/rss+xml; charset=utf-8");
            });
            await app.StartAsync();
            return feed;
        }

        public async ValueTask DisposeAsync() => await _app.DisposeAsync();

        private static string Rss()
        {
            var items = string.Concat(Enumerable.Range(1, Items).Select(i =>
                $"<item><title>Cluster wire story {i}: Nordvale Labs lifts guidance</title><link>https://wire.example/story-{i}</link><guid>cluster-wire-{i}</guid><pubDate>Fri, 20 Nov 2026 1{i}:00:00 GMT</pubDate><description>Story {i} of the cluster wire.</description></item>"));
            return $"<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\"><channel><title>Cluster Wire</title><link>https://wire.example/</link><description>test</description>{items}</channel></rss>";
        }
    }
}
