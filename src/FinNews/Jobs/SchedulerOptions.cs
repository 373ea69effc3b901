namespace FinNews.Jobs;

/// <summary>Background schedules (section "Scheduler").</summary>
public sealed class SchedulerOptions
{
    /// <summary>Seconds between drains of unindexed articles.</summary>
    public int IndexIntervalSeconds { get; set; } = 60;

    /// <summary>Days an article is kept before the retention job deletes it (with its search chunks).</summary>
    public int RetentionDays { get; set; } = 365;

    /// <summary>Seconds between checks of the feed list for feeds added, removed or changed (new feeds get a poll job).</summary>
    public int FeedListSyncSeconds { get; set; } = 60;

    /// <summary>Quartz cron for loading market data.</summary>
    public string MarketDataSchedule { get; set; } = "0 30 22 ? * MON-FRI";

    /// <summary>
    /// Where Quartz keeps the schedules: "memory" (the default: one process, schedules rebuilt at every start) or
    /// "postgres" (Quartz's clustered ADO job store in the database named by <c>FINNEWS_POSTGRES_CONNECTION</c>, so several
    /// <c>finnews worker</c> nodes share the schedules, each trigger fires once, and a dead node's jobs are recovered).
    /// </summary>
    public string Store { get; set; } = "memory";

    /// <summary>This node's id in the cluster (unique per node); empty (the default): host name plus a start-time suffix.</summary>
    public string InstanceId { get; set; } = "";

    /// <summary>Seconds between a clustered node's check-ins (how soon a dead node can be noticed).</summary>
    public int CheckinIntervalSeconds { get; set; } = 10;

    /// <summary>
    /// Seconds past a missed check-in before the other nodes treat a node as dead and recover its jobs: a node killed
    /// mid-job has its work re-run elsewhere within about CheckinIntervalSeconds + CheckinMisfireThresholdSeconds.
    /// </summary>
    public int CheckinMisfireThresholdSeconds { get; set; } = 15;

    /// <summary>Seconds a trigger may be late before it counts as misfired (and its misfire instruction applies).</summary>
    public int MisfireThresholdSeconds { get; set; } = 60;

    /// <summary>Jobs one node runs at once.</summary>
    public int MaxConcurrentJobs { get; set; } = 8;
}
