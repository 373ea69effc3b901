using FinNews.Core.Briefing;
using FinNews.Core.Feeds;

namespace FinNews.Tests.Support;

/// <summary>Throwaway values for tests.</summary>
public static class Some
{
    public static readonly DateTimeOffset Day = new(2026, 11, 20, 12, 0, 0, TimeSpan.Zero);

    public static Article Article(string id, string feedId = "wire", string? title = null, DateTimeOffset? published = null,
        IReadOnlyList<string>? tickers = null, string outlet = "Wire", string? summary = null) => new(
        id, feedId, outlet, title ?? $"Headline {id}", $"https://{feedId}.example/{id}", summary ?? $"Summary of {id}.", "",
        published ?? Day, published ?? Day, false, tickers ?? [], [], [], $"hash-{id}");

    /// <summary>A one-statement briefing written at <paramref name="written"/> with news up to then.</summary>
    public static BriefingDocument Briefing(string id, DateTimeOffset? written = null)
    {
        var at = written ?? Day;
        return new BriefingDocument(id, at, at.AddDays(-1), at, $"Briefing {id}", "extractive", null, [],
            [new BriefingSection("top", "Top stories", [new BriefingBullet(null, "Markets moved.", [1])])],
            [new BriefingSource(1, SourceKind.Article, "a1", "Wire", "Markets moved", "https://wire.example/a1", at.AddHours(-1))]);
    }
}
