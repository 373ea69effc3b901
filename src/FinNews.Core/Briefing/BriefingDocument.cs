using System.Text.Json;
using System.Text.Json.Serialization;

namespace FinNews.Core.Briefing;

/// <summary>A written briefing as stored: sections of cited bullets and the numbered sources they cite.</summary>
/// <param name="Id">Stable id (time and content derived).</param>
/// <param name="CreatedAt">When it was written (UTC).</param>
/// <param name="WindowStart">Start of the news window covered (inclusive).</param>
/// <param name="WindowEnd">End of the news window (exclusive): nothing published or first seen after it was used.</param>
/// <param name="Title">Headline of the briefing.</param>
/// <param name="Writer">Which writer produced it (extractive, llm).</param>
/// <param name="Model">Model profile and id when a language model wrote it.</param>
/// <param name="Notes">Facts a reader must know about how it was made (fallbacks, widened windows).</param>
/// <param name="Sections">Sections in reading order.</param>
/// <param name="Sources">Every cited source, numbered from 1 in order of first citation.</param>
/// <param name="Run">How the writer ran: model, tokens, latency, validator results and dropped statements (null for older briefings).</param>
/// <param name="AsOf">
/// The instant the briefing was asked for (now, or <c>--as-of</c>); its UTC date is the briefing's edition. Null in
/// briefings stored before it was recorded: <see cref="WindowEnd"/> stands in.
/// </param>
public sealed record BriefingDocument(
    string Id,
    DateTimeOffset CreatedAt,
    DateTimeOffset WindowStart,
    DateTimeOffset WindowEnd,
    string Title,
    string Writer,
    string? Model,
    IReadOnlyList<string> Notes,
    IReadOnlyList<BriefingSection> Sections,
    IReadOnlyList<BriefingSource> Sources,
    WriterReport? Run = null,
    DateTimeOffset? AsOf = null)
{
    /// <summary>The instant the briefing covers news up to: <see cref="AsOf"/>, or the window end for older briefings.</summary>
    [JsonIgnore]
    public DateTimeOffset CoveredUntil => AsOf ?? WindowEnd;

    /// <summary>The edition: the UTC date of <see cref="CoveredUntil"/>. A later briefing of the same edition supersedes it.</summary>
    [JsonIgnore]
    public DateOnly Edition => DateOnly.FromDateTime(CoveredUntil.UtcDateTime);

    /// <summary>Looks up a source by its citation number.</summary>
    public BriefingSource? Source(int number) => Sources.FirstOrDefault(s => s.Number == number);
}

/// <summary>A section of a briefing (Top stories, Watchlist, Markets...).</summary>
public sealed record BriefingSection(string Key, string Title, IReadOnlyList<BriefingBullet> Bullets);

/// <summary>One statement, with the numbers of the sources it rests on.</summary>
/// <param name="Headline">Optional lead-in (the event's headline or the ticker).</param>
/// <param name="Text">The statement.</param>
/// <param name="Citations">Source numbers, at least one.</param>
public sealed record BriefingBullet(string? Headline, string Text, IReadOnlyList<int> Citations);

/// <summary>The kind of thing a citation points at.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<SourceKind>))]
public enum SourceKind
{
    Article,
    MarketData,
}

/// <summary>A numbered source: a stored article, or stored market bars.</summary>
/// <param name="Number">Citation number.</param>
/// <param name="Kind">Article or market data.</param>
/// <param name="ArticleId">Stored article id (articles only).</param>
/// <param name="Outlet">Outlet name, or the market-data provider.</param>
/// <param name="Title">Article title, or a description of the bars.</param>
/// <param name="Url">Link to the original (articles) or to this service's market endpoint.</param>
/// <param name="PublishedAt">Publication time, or the bar date's close.</param>
public sealed record BriefingSource(
    int Number,
    SourceKind Kind,
    string? ArticleId,
    string Outlet,
    string Title,
    string Url,
    DateTimeOffset PublishedAt);

/// <summary>A briefing's header for listings.</summary>
/// <param name="AsOf">The instant it covers news up to (its edition is that instant's UTC date).</param>
/// <param name="Edition">The covered day (UTC), yyyy-MM-dd.</param>
/// <param name="Version">1 for the first briefing of its edition, 2 for the next re-run, and so on.</param>
/// <param name="SupersededBy">The id of the newer version of the same edition, when there is one.</param>
public sealed record BriefingSummary(
    string Id,
    DateTimeOffset CreatedAt,
    DateTimeOffset WindowStart,
    DateTimeOffset WindowEnd,
    string Title,
    string Writer,
    DateTimeOffset AsOf,
    string Edition,
    int Version,
    string? SupersededBy);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true)]
[JsonSerializable(typeof(BriefingDocument))]
[JsonSerializable(typeof(BriefingSummary))]
[JsonSerializable(typeof(IReadOnlyList<BriefingSummary>))]
public sealed partial class BriefingJsonContext : JsonSerializerContext;
