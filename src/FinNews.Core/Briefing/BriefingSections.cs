namespace FinNews.Core.Briefing;

/// <summary>The section keys a briefing can have, in reading order (digest subscriptions filter on them).</summary>
public static class BriefingSections
{
    public const string Top = "top";
    public const string Watchlist = "watchlist";
    public const string Markets = "markets";

    /// <summary>Every section key, in reading order.</summary>
    public static IReadOnlyList<string> All { get; } = [Top, Watchlist, Markets];
}
