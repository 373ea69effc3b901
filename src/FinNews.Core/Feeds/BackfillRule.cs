
namespace FinNews.Core.Feeds;

/// <summary>
/// The first-seen rule for news imported from history (<c>finnews ingest --backfill</c>). This service did not see
/// those items arrive, yet a point-in-time (as-of) briefing of their days needs a first-seen time: an imported item is
/// taken as first seen <see cref="Lag"/> after its publication (never later than the import itself), and is marked
/// <see cref="Article.Backfilled"/> so every briefing that cites it says the time is assumed, not observed.
/// </summary>
/// <remarks>
/// Items without a publication date cannot be placed in history: they are skipped, not imported as "now". An item
/// already stored keeps its observed first-seen time.
/// </remarks>
public static class BackfillRule
{
    /// <summary>How long after publication an imported item counts as seen: a wire item reaches a polling service within minutes.</summary>
    public static readonly TimeSpan Lag = TimeSpan.FromMinutes(15);

    /// <summary>The rule in words, as briefings and the CLI state it.</summary>
    public static string Describe => "15 minutes after its publication (capped at the import time)";

    /// <summary>The imported article under the rule, or null when it has no publication date to place it by.</summary>
    public static Article? Apply(Article article, DateTimeOffset importedAt)
    {
        ArgumentNullException.ThrowIfNull(article);
        if (article.PublishedIsFallback)
        {
            return null;
        }

        var seen = article.PublishedAt + Lag;
        return article with { FirstSeenAt = seen < importedAt ? seen : importedAt, Backfilled = true };
    }
}
