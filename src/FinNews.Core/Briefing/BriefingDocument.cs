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
    WriterReport? Run = null)
{
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
public sealed record BriefingSummary(
    string Id,
    DateTimeOffset CreatedAt,
    DateTimeOffset WindowStart,
    DateTimeOffset WindowEnd,
    string Title,
    string Writer);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true)]
[JsonSerializable(typeof(BriefingDocument))]
[JsonSerializable(typeof(BriefingSummary))]
[JsonSerializable(typeof(IReadOnlyList<BriefingSummary>))]
public sealed partial class BriefingJsonContext : JsonSerializerContext;
