using System.Globalization;
using FinNews.Core.Feeds;

namespace FinNews.Core.Briefing;

/// <summary>
/// The offline, deterministic writer: each event becomes its headline and lead sentence, citing every outlet that
/// carried it. Market rows become one sentence of figures computed from stored bars.
/// </summary>
public sealed class ExtractiveWriter : IReportingBriefingWriter
{
    private readonly string? _note;

    /// <param name="note">Why the extractive writer is writing (e.g. no model configured); shown on the briefing.</param>
    public ExtractiveWriter(string? note = null) => _note = note;

    /// <inheritdoc/>
    public async Task<WriterOutcome> WriteWithReportAsync(IReadOnlyList<SectionMaterial> material, CancellationToken cancellationToken)
    {
        var sections = await WriteAsync(material, cancellationToken);
        return new WriterOutcome(sections, new WriterReport(Name, null, null, 0, 0, 0, 0, 0, _note is null ? [] : [_note], [], []));
    }

    /// <inheritdoc/>
    public string Name => "extractive";

    /// <inheritdoc/>
    public Task<IReadOnlyList<DraftSection>> WriteAsync(IReadOnlyList<SectionMaterial> material, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(material);
        var sections = material.Select(m => new DraftSection(m.Key, m.Title,
            m.Key == "markets"
                ? m.Markets.Select(MarketBullet).ToList()
                : m.Stories.Select(s => StoryBullet(m.Key, s)).ToList())).ToList();
        return Task.FromResult<IReadOnlyList<DraftSection>>(sections);
    }

    private static DraftBullet StoryBullet(string sectionKey, StoryCluster story)
    {
        var lead = story.Articles.Select(a => LeadSentence(a.Summary)).FirstOrDefault(s => s.Length >= 40)
            ?? LeadSentence(story.Representative.Summary);
        var headline = story.Representative.Title;
        if (lead.Length == 0 || string.Equals(lead.TrimEnd('.'), headline.TrimEnd('.'), StringComparison.OrdinalIgnoreCase))
        {
            lead = headline;
            headline = "";
        }

        if (sectionKey == "watchlist" && (story.Focus is not null || story.Tickers.Count > 0))
        {
            headline = $"{story.Focus ?? string.Join(", ", story.Tickers.Take(3))}: {headline}".TrimEnd(' ', ':');
        }

        return new DraftBullet(headline.Length == 0 ? null : headline, lead, story.Articles.Select(a => a.Id).ToList());
    }

    private static DraftBullet MarketBullet(MarketMove m)
    {
        var c = CultureInfo.InvariantCulture;
        var parts = new List<string> { string.Create(c, $"{m.Symbol} closed at {m.Latest.Close:0.00} on {m.Latest.Date:yyyy-MM-dd}") };
        if (m.DayChangePercent is { } day)
        {
            parts[0] += string.Create(c, $", {(day >= 0 ? "up" : "down")} {Math.Abs(day):0.0}% on the day");
        }

        if (m.FiveDayChangePercent is { } week)
        {
            parts.Add(string.Create(c, $"{(week >= 0 ? "+" : "-")}{Math.Abs(week):0.0}% over five sessions"));
        }

        if (m.Latest.Flags.Count > 0)
        {
            parts.Add($"data flagged: {string.Join(", ", m.Latest.Flags)}");
        }

        return new DraftBullet(m.Name is null ? m.Symbol : $"{m.Symbol} ({m.Name})", string.Join("; ", parts) + ".",
            [MarketKey(m)]);
    }

    /// <summary>The source key of a market row.</summary>
    public static string MarketKey(MarketMove move) =>
        string.Create(CultureInfo.InvariantCulture, $"market:{move.Symbol}:{move.Latest.Date:yyyy-MM-dd}");

    /// <summary>The first sentence of a text (see <see cref="Sentences"/>: initials, "U.S.", "Inc.", "No. 2" and 4.25 don't end it).</summary>
    public static string LeadSentence(string text) => ArticleNormalizer.Lead(Sentences.First(text), 320);
}
