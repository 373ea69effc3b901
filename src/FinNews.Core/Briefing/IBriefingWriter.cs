using FinNews.Core.Feeds;
using FinNews.Core.Market;

namespace FinNews.Core.Briefing;

/// <summary>What a writer is given for one section: the stories retrieved for it, or market rows.</summary>
/// <param name="Key">Section key (top, watchlist, markets).</param>
/// <param name="Title">Section heading.</param>
/// <param name="Stories">Story clusters retrieved for the section, most important first.</param>
/// <param name="Markets">Market rows (markets section only).</param>
public sealed record SectionMaterial(
    string Key,
    string Title,
    IReadOnlyList<StoryCluster> Stories,
    IReadOnlyList<MarketMove> Markets);

/// <summary>A symbol's latest close and its moves, computed from stored bars.</summary>
public sealed record MarketMove(
    string Symbol,
    string? Name,
    DailyBar Latest,
    decimal? DayChangePercent,
    decimal? FiveDayChangePercent,
    string Source);

/// <summary>A section as a writer wrote it: bullets citing source keys (article ids or <c>market:SYMBOL:DATE</c>).</summary>
public sealed record DraftSection(string Key, string Title, IReadOnlyList<DraftBullet> Bullets);

/// <summary>A bullet citing source keys; the composer turns keys into numbers.</summary>
public sealed record DraftBullet(string? Headline, string Text, IReadOnlyList<string> SourceKeys);

/// <summary>Writes briefing sections from retrieved material.</summary>
/// <remarks>
/// Implementations cite only the sources they were given, by key. The composer numbers them, stores them, and drops a
/// bullet that cites nothing.
/// </remarks>
public interface IBriefingWriter
{
    /// <summary>Short name recorded with each briefing (extractive, llm).</summary>
    string Name { get; }

    /// <summary>Writes every section.</summary>
    Task<IReadOnlyList<DraftSection>> WriteAsync(IReadOnlyList<SectionMaterial> material, CancellationToken cancellationToken);
}
