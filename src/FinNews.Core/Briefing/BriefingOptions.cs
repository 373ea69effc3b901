namespace FinNews.Core.Briefing;

/// <summary>How briefings are planned (section "Briefing" of appsettings.json).</summary>
public sealed class BriefingOptions
{
    /// <summary>Hours of news a briefing covers, ending at its as-of instant.</summary>
    public int LookbackHours { get; set; } = 24;

    /// <summary>Most stories in Top stories.</summary>
    public int TopStories { get; set; } = 6;

    /// <summary>Most stories per watchlist company.</summary>
    public int PerTicker { get; set; } = 2;

    /// <summary>Similarity (0..1) above which two articles are the same story.</summary>
    public double ClusterThreshold { get; set; } = 0.22;

    /// <summary>Quartz cron expression for the scheduled briefing.</summary>
    public string Schedule { get; set; } = "0 0 6 * * ?";

    /// <summary>Hour (UTC) after which a day's market bar counts as final.</summary>
    public int MarketCloseHourUtc { get; set; } = 21;
}
