using System.Collections.Concurrent;
using System.Diagnostics;
using Dapper;
using FinNews.Hosting;
using FinNews.Jobs;
using FinNews.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Quartz;

namespace FinNews.Tests.Jobs;

/// <summary>
/// The clustered scheduler's job-run log (<c>finnews_job_runs</c>): every execution recorded with its Quartz fire instance
/// id, which the run's log lines carry as <c>JobId</c>; rows past 30 days purged by the retention job. Jobs run through a
/// real Quartz scheduler with <see cref="JobRunMiddleware"/>, on this class's own PostgreSQL database.
/// </summary>
[RequiresPostgres]
public sealed class JobRunLogTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>
{
    private static readonly JobKey Probe = new("probe", "test");

    [StorageFact]
    public async Task Each_run_is_recorded_with_its_fire_instance_id_and_outcome_and_its_log_lines_carry_that_id_as_JobId()
    {
        using var env = TestEnvironment.Create();
        await new PostgresSchema(database.ConnectionString, env.Clock).ApplyAsync(CancellationToken.None);
        var seen = new ConcurrentDictionary<string, string>(StringComparer.Ordinal);

        using (var host = BuildHost(env, seen))
        {
            var scheduler = await StartAsync(host);
            await scheduler.TriggerJob(Probe, new JobDataMap { ["marker"] = "first" });
            await scheduler.TriggerJob(Probe, new JobDataMap { ["marker"] = "second", ["fail"] = "true" });
            await WaitForRunsAsync("probe", 2);
            await scheduler.Shutdown(waitForJobsToComplete: true);
        }

        var runs = (await QueryAsync<(string FireInstanceId, string InstanceId, bool Recovering, DateTime StartedAt, DateTime FinishedAt, string Outcome, string? Error)>(
            "SELECT fire_instance_id, instance_id, recovering, started_at, finished_at, outcome, error FROM finnews_job_runs WHERE job_name = 'probe' ORDER BY id")).ToList();
        // The two runs may start in either order: each row is matched to its run by the fire instance id the job saw.
        runs.Select(r => r.FireInstanceId).Should().BeEquivalentTo([seen["first"], seen["second"]]);
        var byId = runs.ToDictionary(r => r.FireInstanceId);
        (byId[seen["first"]].Outcome, byId[seen["first"]].Error).Should().Be(("succeeded", null));
        (byId[seen["second"]].Outcome, byId[seen["second"]].Error).Should().Be(("failed", "probe failed on purpose"));
        runs.Should().OnlyContain(r => !r.Recovering && r.InstanceId.Length > 0);
        runs.Select(r => new DateTimeOffset(r.StartedAt, TimeSpan.Zero)).Should().AllBeEquivalentTo(env.Clock.GetUtcNow(), "times come from the host's clock");

        var log = ReadLogs(env);
        foreach (var (marker, fireInstanceId) in seen)
        {
            log.Should().ContainSingle(l => l.Contains($"Probe ran for {marker}", StringComparison.Ordinal))
                .Which.Should().Contain($"\"JobId\":\"{fireInstanceId}\"").And.Contain("\"Job\":\"test.probe\"");
        }
    }

    [StorageFact]
    public async Task The_retention_job_purges_job_runs_started_more_than_30_days_ago_and_keeps_the_rest()
    {
        using var env = TestEnvironment.Create();
        env.EditFeeds(_ => []);
        await new PostgresSchema(database.ConnectionString, env.Clock).ApplyAsync(CancellationToken.None);
        var now = env.Clock.GetUtcNow();
        foreach (var (name, age) in new[] { ("old-31d", TimeSpan.FromDays(31)), ("edge-30d-1s", TimeSpan.FromDays(30).Add(TimeSpan.FromSeconds(1))), ("kept-29d", TimeSpan.FromDays(29)), ("kept-today", TimeSpan.Zero) })
        {
            await ExecuteAsync("""
                INSERT INTO finnews_job_runs (instance_id, fire_instance_id, job_group, job_name, trigger_group, trigger_name, fired_at, recovering, started_at, finished_at, outcome)
                VALUES ('node-old', @name, 'purge-test', @name, 'DEFAULT', 't', @at, false, @at, @at, 'succeeded')
                """, new { name, at = now - age });
        }

        using (var host = BuildHost(env, new ConcurrentDictionary<string, string>()))
        {
            var scheduler = await StartAsync(host);
            await scheduler.TriggerJob(RetentionJob.Key);
            await WaitForRunsAsync(RetentionJob.Key.Name, 1);
            await scheduler.Shutdown(waitForJobsToComplete: true);
        }

        (await QueryAsync<string>("SELECT job_name FROM finnews_job_runs WHERE job_group = 'purge-test' ORDER BY job_name"))
            .Should().Equal("kept-29d", "kept-today");
        (await QueryAsync<string>("SELECT outcome FROM finnews_job_runs WHERE job_name = @name", new { name = RetentionJob.Key.Name }))
            .Should().Equal("succeeded");
    }

    /// <summary>The app's services as a CLI host composes them, the job-run log on this class's database, and a scheduler (not started).</summary>
    private IHost BuildHost(TestEnvironment env, ConcurrentDictionary<string, string> seen) => AppHost.BuildTool(env.Paths, env.Clock, verbose: false, b =>
    {
        b.Services.AddSingleton(new JobRunLog(database.ConnectionString));
        b.Services.AddSingleton(seen);
        b.Services.AddQuartz(q =>
        {
            // A name of its own: test classes build schedulers in parallel in one process.
            q.ConfigureScheduler(o => o.InstanceName = "job-runs-" + Guid.NewGuid().ToString("N"));
            q.AddJobMiddleware<JobRunMiddleware>();
            q.AddJob<ProbeJob>(j => j.WithIdentity(Probe).StoreDurably());
            q.AddJob<RetentionJob>(j => j.WithIdentity(RetentionJob.Key).StoreDurably());
        });
    });

    private static async Task<IScheduler> StartAsync(IHost host)
    {
        var scheduler = await host.Services.GetRequiredService<ISchedulerFactory>().GetScheduler();
        await scheduler.Start();
        return scheduler;
    }

    /// <summary>Waits until <paramref name="count"/> runs of the job have finished (a guard against a hang, not a speed check).</summary>
    private async Task WaitForRunsAsync(string jobName, int count)
    {
        var watch = Stopwatch.StartNew();
        while ((await QueryAsync<long>("SELECT count(*) FROM finnews_job_runs WHERE job_name = @jobName AND finished_at IS NOT NULL", new { jobName })).Single() < count)
        {
            watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(60), $"{count} runs of {jobName} finish");
            await Task.Delay(100);
        }
    }

    private async Task<IEnumerable<T>> QueryAsync<T>(string sql, object? args = null)
    {
        await using var c = new NpgsqlConnection(database.ConnectionString);
        return (await c.QueryAsync<T>(sql, args)).ToList();
    }

    private async Task ExecuteAsync(string sql, object args)
    {
        await using var c = new NpgsqlConnection(database.ConnectionString);
        await c.ExecuteAsync(sql, args);
    }

    private static List<string> ReadLogs(TestEnvironment env)
    {
        var lines = new List<string>();
        foreach (var file in Directory.GetFiles(Path.Combine(env.DataDirectory, "logs"), "*.log"))
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream);
            while (reader.ReadLine() is { } line)
            {
                lines.Add(line);
            }
        }

        return lines;
    }

    /// <summary>Logs a line, remembers the fire instance id it ran as, and fails when its data says so.</summary>
    private sealed class ProbeJob(ConcurrentDictionary<string, string> seen, ILogger<ProbeJob> logger) : IJob
    {
        public ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
        {
            var marker = context.MergedJobDataMap.GetString("marker")!;
            seen[marker] = context.FireInstanceId;
            logger.LogInformation("Probe ran for {Marker}", marker);
            return context.MergedJobDataMap.GetString("fail") == "true"
                ? throw new InvalidOperationException("probe failed on purpose")
                : ValueTask.CompletedTask;
        }
    }
}
