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

    /// <summary>
    /// Seconds between a clustered node's check-ins (how soon a dead node can be noticed; each is a few queries and a row
    /// lock in PostgreSQL). 5 (Quartz's own default is 7.5).
    /// </summary>
    public int CheckinIntervalSeconds { get; set; } = 5;

    /// <summary>
    /// Seconds past a missed check-in before the other nodes treat a node as dead. It must cover the longest pause a
    /// live node may take (garbage collection, a starved machine): a node declared dead while alive has its jobs run a
    /// second time. 10. See <see cref="RecoveryBound"/> for what it means for recovery.
    /// </summary>
    public int CheckinMisfireThresholdSeconds { get; set; } = 10;

    /// <summary>
    /// Seconds a trigger may be late before it counts as misfired, in the in-memory and the clustered store alike (then
    /// its misfire instruction applies: the index and feed-list jobs skip to their next slot, a feed poll runs once as soon
    /// as a thread is free, cron jobs fire once). 60.
    /// </summary>
    public int MisfireThresholdSeconds { get; set; } = 60;

    /// <summary>
    /// Seconds between each node's scans for misfired triggers (Quartz's misfire handler frequency, otherwise equal to
    /// <see cref="MisfireThresholdSeconds"/>). A job recovered from a dead node is re-fired for the time it first fired
    /// at, so one that had run longer than about a minute is found by this scan: short scans keep its recovery prompt.
    /// One cheap count query per scan when nothing misfired. 5.
    /// </summary>
    public int MisfireScanSeconds { get; set; } = 5;

    /// <summary>
    /// The longest a job cut short by a dead node waits before another node starts it again, as Quartz 4.7 works: a node
    /// counts as dead once it has not checked in for <see cref="CheckinIntervalSeconds"/> + <see cref="CheckinMisfireThresholdSeconds"/>,
    /// which the other nodes see at their next check-in (up to one interval later); the recovery of a job that disallows
    /// concurrent execution (all of FinNews's jobs) then waits one more check-in, in case the node was only slow. So:
    /// 3 × CheckinIntervalSeconds + CheckinMisfireThresholdSeconds (25 s with the defaults), plus up to
    /// <see cref="MisfireScanSeconds"/> for a job that had already run longer than MisfireThresholdSeconds minus that.
    /// </summary>
    public TimeSpan RecoveryBound => TimeSpan.FromSeconds(3 * CheckinIntervalSeconds + CheckinMisfireThresholdSeconds);

    /// <summary>Jobs one node runs at once.</summary>
    public int MaxConcurrentJobs { get; set; } = 8;
}
