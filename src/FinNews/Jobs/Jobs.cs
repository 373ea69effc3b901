using FinNews.Core.Market;
using FinNews.Core.Search;
using FinNews.Hosting;
using Quartz;

namespace FinNews.Jobs;

/// <summary>Polls one feed (its id in the job data) when it is due: backoff, Retry-After and pauses are respected.</summary>
[DisallowConcurrentExecution]
public sealed class FeedPollJob(FinNewsPipeline pipeline, FeedCatalog catalog, ILogger<FeedPollJob> logger) : IJob
{
    public const string FeedIdKey = "feedId";

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        var feedId = context.MergedJobDataMap.GetString(FeedIdKey);
        var feed = catalog.Load().Feeds.FirstOrDefault(f => f.Id == feedId);
        if (feed is null || !feed.Enabled)
        {
            logger.LogInformation("Feed {FeedId} is no longer configured or enabled; poll skipped", feedId);
            return;
        }

        var results = await pipeline.IngestDueAsync([feed], cancellationToken);
        foreach (var r in results)
        {
            logger.LogInformation("Feed {FeedId} polled: {New} new, {Error}", r.FeedId, r.Counts?.Inserted ?? 0, r.Error ?? "ok");
        }
    }
}

/// <summary>Deletes articles past the retention period, with their search chunks.</summary>
[DisallowConcurrentExecution]
public sealed class RetentionJob(FinNews.Core.Storage.SqliteStore store, FinNews.Core.Search.ISearchIndex index,
    Microsoft.Extensions.Options.IOptions<SchedulerOptions> options, TimeProvider time, ILogger<RetentionJob> logger) : IJob
{
    public static readonly JobKey Key = new("retention", "maintenance");

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        var cutoff = time.GetUtcNow().AddDays(-options.Value.RetentionDays);
        var ids = store.ArticleIdsPublishedBefore(cutoff);
        if (ids.Count == 0)
        {
            return;
        }

        // Index first: a crash in between leaves stored articles without chunks (reindex restores them), never the reverse.
        // Whole periods go at once where the backend stores by period (Elasticsearch: monthly indices), the rest by id.
        await index.DropBeforeAsync(cutoff, cancellationToken);
        await index.DeleteAsync(ids, cancellationToken);
        var deleted = store.DeleteArticles(ids);
        logger.LogInformation("Retention: deleted {Count} articles published before {Cutoff:yyyy-MM-dd}", deleted, cutoff);
    }
}

/// <summary>Drains unindexed articles into the search index.</summary>
[DisallowConcurrentExecution]
public sealed class IndexJob(SearchIndexer indexer) : IJob
{
    public static readonly JobKey Key = new("index", "search");

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken) =>
        await indexer.DrainAsync(cancellationToken: cancellationToken);
}

/// <summary>Loads configured market-data files.</summary>
[DisallowConcurrentExecution]
public sealed class MarketDataJob(MarketDataLoader loader) : IJob
{
    public static readonly JobKey Key = new("market-data", "market");

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken) =>
        await loader.LoadAllAsync(cancellationToken);
}

/// <summary>Writes the scheduled briefing.</summary>
[DisallowConcurrentExecution]
public sealed class BriefingJob(FinNewsPipeline pipeline, ILogger<BriefingJob> logger) : IJob
{
    public static readonly JobKey Key = new("briefing", "briefings");

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        var (briefing, files) = await pipeline.BriefAsync(null, cancellationToken);
        logger.LogInformation("Briefing {BriefingId} written to {Files}", briefing.Id, files);
    }
}

/// <summary>Scheduler registration for `worker` and `run`.</summary>
public static class JobRegistration
{
    /// <summary>
    /// Quartz with an in-memory store. Misfires: interval jobs skip missed runs and wait for the next slot
    /// (a late poll is as good as an on-time one, a burst is not); the daily briefing fires once if its time was missed
    /// while the process was down.
    /// </summary>
    public static void AddFinNewsJobs(this IHostApplicationBuilder builder, AppPaths paths, TimeProvider time, bool runPipelineAtStart)
    {
        var scheduler = builder.Configuration.GetSection("Scheduler").Get<SchedulerOptions>() ?? new SchedulerOptions();
        var briefingCron = builder.Configuration["Briefing:Schedule"] ?? "0 0 6 * * ?";
        var feedsFile = paths.FromConfig(builder.Configuration["FinNews:FeedsFile"] ?? "feeds.json");
        var feeds = File.Exists(feedsFile) ? FinNews.Core.Feeds.FeedList.Load(feedsFile).Feeds : [];
        var now = time.GetUtcNow();
        builder.Services.AddQuartz(q =>
        {
            // One job per configured feed, on the feed's own interval, first fire spread over that interval so a
            // restart does not hit every publisher at once. Due-ness (backoff, Retry-After, pause) is checked per run.
            foreach (var feed in feeds.Where(f => f.Enabled))
            {
                var key = new JobKey($"feed-{feed.Id}", "feeds");
                var interval = TimeSpan.FromMinutes(feed.IntervalMinutes);
                var jitter = TimeSpan.FromSeconds(Random.Shared.NextDouble() * Math.Min(interval.TotalSeconds, 300));
                q.AddJob<FeedPollJob>(j => j.WithIdentity(key).UsingJobData(FeedPollJob.FeedIdKey, feed.Id));
                q.AddTrigger(t => t.ForJob(key).WithIdentity($"feed-{feed.Id}-interval", "feeds")
                    .StartAt(now.Add(runPipelineAtStart ? interval : TimeSpan.Zero).Add(jitter))
                    .WithSimpleSchedule(s => s.WithInterval(interval).RepeatForever()
                        .WithMisfireInstruction(SimpleTriggerMisfireInstruction.NextWithRemainingCount)));
            }

            q.AddDigestJob();

            q.AddJob<RetentionJob>(j => j.WithIdentity(RetentionJob.Key));
            q.AddTrigger(t => t.ForJob(RetentionJob.Key).WithIdentity("retention-daily")
                .WithCronSchedule("0 15 3 * * ?", c => c.InTimeZone(TimeZoneInfo.Utc).WithMisfireInstruction(CronTriggerMisfireInstruction.FireAndProceed)));

            q.AddJob<IndexJob>(j => j.WithIdentity(IndexJob.Key));
            q.AddTrigger(t => t.ForJob(IndexJob.Key).WithIdentity("index-interval")
                .StartAt(now.AddSeconds(scheduler.IndexIntervalSeconds))
                .WithSimpleSchedule(s => s.WithInterval(TimeSpan.FromSeconds(scheduler.IndexIntervalSeconds)).RepeatForever()
                    .WithMisfireInstruction(SimpleTriggerMisfireInstruction.NextWithRemainingCount)));

            q.AddJob<MarketDataJob>(j => j.WithIdentity(MarketDataJob.Key));
            q.AddTrigger(t => t.ForJob(MarketDataJob.Key).WithIdentity("market-data-cron")
                .WithCronSchedule(scheduler.MarketDataSchedule, c => c.InTimeZone(TimeZoneInfo.Utc).WithMisfireInstruction(CronTriggerMisfireInstruction.FireAndProceed)));

            q.AddJob<BriefingJob>(j => j.WithIdentity(BriefingJob.Key));
            q.AddTrigger(t => t.ForJob(BriefingJob.Key).WithIdentity("briefing-cron")
                .WithCronSchedule(briefingCron, c => c.InTimeZone(TimeZoneInfo.Utc).WithMisfireInstruction(CronTriggerMisfireInstruction.FireAndProceed)));
        });
        builder.Services.AddQuartzHostedService(o => o.WaitForJobsToComplete = true);
        if (runPipelineAtStart)
        {
            builder.Services.AddHostedService<StartupPass>();
        }
    }
}

/// <summary>On start of `run`: ingest everything and write a briefing right away, so the first page has one.</summary>
public sealed class StartupPass(FinNewsPipeline pipeline, FirstPassStatus status, ILogger<StartupPass> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            status.State = "ingesting feeds";
            var results = await pipeline.IngestAsync(null, stoppingToken);
            status.State = "writing the first briefing";
            var (briefing, files) = await pipeline.BriefAsync(null, stoppingToken);
            logger.LogInformation("First pass: {Feeds} feeds ({Failed} failed), briefing {BriefingId} written to {Files}",
                results.Count, results.Count(r => r.Error is not null), briefing.Id, files);
            status.State = "done";
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            status.State = "stopped";
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or InvalidOperationException or Microsoft.Data.Sqlite.SqliteException)
        {
            status.State = "failed: " + ex.Message;
            logger.LogError(ex, "First pass failed");
        }
    }
}

/// <summary>What the start-up pass is doing, shown on the page until the first briefing exists.</summary>
public sealed class FirstPassStatus
{
    public string State { get; set; } = "starting";
}
