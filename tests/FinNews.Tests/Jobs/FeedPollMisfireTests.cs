using System.Collections.Concurrent;
using System.Diagnostics;
using FinNews.Core.Feeds;
using FinNews.Core.Storage.Sqlite;
using FinNews.Tests.Feeds;
using FinNews.Tests.Support;

namespace FinNews.Tests.Jobs;

/// <summary>Feed polls that cannot start on time (every scheduler thread busy) still run, in a real `finnews worker`.</summary>
public sealed class FeedPollMisfireTests
{
    /// <summary>
    /// Six feeds added at once to a worker with one scheduler thread, each fetch taking 1.5 s, a misfire threshold of 1 s:
    /// most polls start late, past the threshold. Each still runs once, right when the thread is free; before, a poll
    /// late by more than the in-memory store's own 5 s (the setting did not reach it) was pushed to its next interval.
    /// </summary>
    [Fact]
    public async Task Polls_that_wait_past_the_misfire_threshold_for_a_thread_run_when_it_is_free_not_an_interval_later()
    {
        using var env = TestEnvironment.Create();
        env.EditFeeds(_ => []);
        env.SetSetting("Scheduler:MaxConcurrentJobs", 1);
        env.SetSetting("Scheduler:MisfireThresholdSeconds", 1);
        env.SetSetting("Scheduler:FeedListSyncSeconds", 1);
        env.SetSetting("Scheduler:IndexIntervalSeconds", 3600);
        await using var server = await FetchTestServer.StartAsync(async context =>
        {
            await Task.Delay(1500);
            await FetchFeeds.WriteRss(context, context.Request.Path.Value!.Trim('/'));
        });
        var info = FinNewsProcess.StartInfo("worker", "--config", env.ConfigDirectory);
        // Quartz's debug lines say when the feed-list sync has run once (on the empty list): feeds added after it are
        // scheduled right away rather than spread over the start-up window. The line is logged as a run starts, so the
        // test waits for the second run's line: the first has then finished (the sync never runs twice at once) and
        // cannot have read the feeds added below (it would spread their first polls over up to five minutes).
        info.Environment["FINNEWS_Serilog__MinimumLevel__Override__Quartz"] = "Debug";
        var lines = new ConcurrentQueue<string>();
        using var worker = new Process { StartInfo = info };
        worker.OutputDataReceived += (_, e) => { if (e.Data is not null) { lines.Enqueue(e.Data); } };
        worker.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lines.Enqueue(e.Data); } };
        worker.Start();
        worker.BeginOutputReadLine();
        worker.BeginErrorReadLine();
        try
        {
            await WaitUntil(() => lines.Count(l => l.Contains("Calling Execute on job maintenance.feed-schedule", StringComparison.Ordinal)) >= 2, worker, lines);
            var store = new SqliteStore(env.DatabasePath);
            var ids = Enumerable.Range(1, 6).Select(i => $"busy-{i}").ToList();
            foreach (var id in ids)
            {
                store.TryAddFeed(new FeedDefinition(id, id, server.Url($"/{id}"), IntervalMinutes: 60, Internal: true), env.Clock.GetUtcNow()).Should().BeTrue();
            }

            await WaitUntil(() => ids.All(id => store.GetFeedState(id)?.LastSuccessAt is not null), worker, lines);

            server.Paths.Should().HaveCount(6, "each feed was polled once");
            store.ArticleCountsByFeed(DateTimeOffset.UnixEpoch).Where(c => c.Key.StartsWith("busy-", StringComparison.Ordinal)).Should().HaveCount(6);
        }
        finally
        {
            worker.Kill(entireProcessTree: true);
            await worker.WaitForExitAsync();
        }
    }

    /// <summary>A guard against a hang (generous for a loaded machine), not a speed check: six 1.5 s polls need 9 s.</summary>
    private static async Task WaitUntil(Func<bool> condition, Process worker, ConcurrentQueue<string> lines)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            worker.HasExited.Should().BeFalse(string.Join('\n', lines));
            watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(90), string.Join('\n', lines.TakeLast(60)));
            await Task.Delay(100);
        }
    }
}
