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

    /// <summary>How much of the briefing rests on bundled sample data.</summary>
    [JsonIgnore]
    public SampleShare SampleShare => Sources.Count == 0 || !Sources.Any(s => s.Sample) ? SampleShare.None
        : Sources.All(s => s.Sample) ? SampleShare.All : SampleShare.Some;
}

/// <summary>How much of a briefing rests on sample data.</summary>
public enum SampleShare
{
    /// <summary>No source is sample data.</summary>
    None,

    /// <summary>Some sources are sample data.</summary>
    Some,

    /// <summary>Every source is sample data.</summary>
    All,
}

/// <summary>A section of a briefing (Top stories, Watchlist, Markets...).</summary>
/// <param name="Key">Section key (top, watchlist, markets).</param>
/// <param name="Title">Heading.</param>
/// <param name="Bullets">The statements, each cited.</param>
/// <param name="Rows">The markets section's table: one row of stored figures per symbol, each citing its bars (null
/// for other sections and for briefings written before the table existed).</param>
public sealed record BriefingSection(string Key, string Title, IReadOnlyList<BriefingBullet> Bullets,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<MarketRow>? Rows = null);

/// <summary>
/// One symbol in the markets table, copied from the stored bars when the briefing was written (so the table reads the
/// same later), citing the market-data source its figures come from.
/// </summary>
/// <param name="Symbol">Ticker.</param>
/// <param name="Name">Company name from the watchlist, when listed there.</param>
/// <param name="Date">Date of the latest final bar.</param>
/// <param name="Close">Its close.</param>
/// <param name="DayChangePercent">Change from the previous session's close, percent (2 decimals).</param>
/// <param name="FiveDayChangePercent">Change from the close five sessions earlier, percent.</param>
/// <param name="Closes">Recent closes, oldest first, ending with <paramref name="Close"/> (the sparkline).</param>
/// <param name="Flags">Data-quality flags on the latest bar.</param>
/// <param name="Citation">Number of the source (the stored bars) every figure in the row rests on.</param>
public sealed record MarketRow(
    string Symbol,
    string? Name,
    DateOnly Date,
    decimal Close,
    decimal? DayChangePercent,
    decimal? FiveDayChangePercent,
    IReadOnlyList<decimal> Closes,
    IReadOnlyList<string> Flags,
    int Citation);

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
/// <param name="Sample">True when the source is bundled sample data (a sample feed's fictional article, or sample market
/// bars): readers see a "sample" badge. Absent (false) in briefings stored before the flag existed.</param>
/// <param name="Backfilled">True when the article was imported from history (<c>ingest --backfill</c>): its first-seen
/// time is the documented backfill rule, not an observation; readers see an "imported" badge.</param>
public sealed record BriefingSource(
    int Number,
    SourceKind Kind,
    string? ArticleId,
    string Outlet,
    string Title,
    string Url,
    DateTimeOffset PublishedAt,
    bool Sample = false,
    bool Backfilled = false);

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
