using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace FinNews.Core.Briefing;

/// <summary>A numbered source as the model saw it, with what the validator checks claims against.</summary>
/// <param name="Number">Citation number within the section (1-based).</param>
/// <param name="Key">Source key the composer understands: article id or <c>market:SYMBOL:DATE</c>.</param>
/// <param name="Text">The text given to the model (title, summary, body excerpt; or the market row).</param>
/// <param name="Tickers">Tickers tagged on the article (or the market symbol).</param>
/// <param name="Date">Publication date (or bar date): a statement may date the event by it.</param>
/// <param name="Market">The market row, for market sources.</param>
public sealed record NumberedSource(int Number, string Key, string Text, IReadOnlyList<string> Tickers, DateOnly? Date,
    MarketMove? Market = null)
{
    private IReadOnlyList<Figure>? _figures;

    /// <summary>Figures in the text, plus the publication date and (market rows) the exact bar values.</summary>
    public IReadOnlyList<Figure> Figures => _figures ??= Collect();

    private List<Figure> Collect()
    {
        var figures = Briefing.Figures.Extract(Text).ToList();
        if (Date is { } d)
        {
            figures.Add(new Figure(FigureKind.Date, 0, 0, 0, null, d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), d.Month, d.Day, d.Year));
        }

        if (Market is { } m)
        {
            // Exact stored values, so a rounded statement is checked against the bar and not only its printed form.
            foreach (var v in new[] { m.Latest.Close, m.Latest.Open, m.Latest.High, m.Latest.Low })
            {
                figures.Add(new Figure(FigureKind.Plain, v, 0, v, null, v.ToString(CultureInfo.InvariantCulture)));
            }

            foreach (var p in new[] { m.DayChangePercent, m.FiveDayChangePercent })
            {
                if (p is { } pct)
                {
                    figures.Add(new Figure(FigureKind.Percent, pct, 0, pct, null, pct.ToString(CultureInfo.InvariantCulture) + "%"));
                }
            }
        }

        return figures;
    }
}

/// <summary>A statement a model proposed, before validation.</summary>
/// <param name="Citations">Source numbers it cites, as written.</param>
/// <param name="FormatProblems">Format faults found while parsing (malformed or missing citations).</param>
public sealed record ProposedBullet(string? Headline, string Text, IReadOnlyList<int> Citations, IReadOnlyList<string> FormatProblems);

/// <summary>The validator's verdict on one bullet: empty <see cref="Reasons"/> means it stands.</summary>
public sealed record BulletCheck(ProposedBullet Bullet, IReadOnlyList<string> Reasons)
{
    /// <summary>True when nothing is wrong.</summary>
    public bool Passed => Reasons.Count == 0;
}

/// <summary>The verdicts on a section's bullets and the time the checks took.</summary>
public sealed record ValidationReport(IReadOnlyList<BulletCheck> Checks, TimeSpan Elapsed)
{
    /// <summary>The bullets that failed.</summary>
    public IReadOnlyList<BulletCheck> Violations => Checks.Where(c => !c.Passed).ToList();
}

/// <summary>
/// Checks every statement of a written section against the sources it cites: at least one citation; every citation a
/// source that was given; every figure (%, money, bn/mn, bp, plain numbers, dates) and ticker present in a cited
/// source after normalization (<see cref="Figures"/>); market statements agree with the stored bar in value and
/// direction.
/// </summary>
/// <remarks>
/// A figure is supported when a cited source states it to the precision the bullet writes ("$1.2bn" rests on
/// "$1,214 million"; "$1.21bn" does not rest on "$1.2bn"). The publication date of a cited source supports that date.
/// </remarks>
public sealed partial class CitationValidator
{
    private readonly IReadOnlySet<string> _knownTickers;

    /// <param name="knownTickers">Symbols recognised as tickers when written bare (the watchlist); tickers of the given
    /// sources are always known.</param>
    public CitationValidator(IEnumerable<string>? knownTickers = null) =>
        _knownTickers = new HashSet<string>(knownTickers ?? [], StringComparer.Ordinal);

    /// <summary>Checks every bullet of a section against the section's numbered sources.</summary>
    public ValidationReport Validate(IReadOnlyList<ProposedBullet> bullets, IReadOnlyDictionary<int, NumberedSource> sources)
    {
        ArgumentNullException.ThrowIfNull(bullets);
        ArgumentNullException.ThrowIfNull(sources);
        var started = Stopwatch.GetTimestamp();
        var known = new HashSet<string>(_knownTickers, StringComparer.Ordinal);
        known.UnionWith(sources.Values.SelectMany(s => s.Tickers));
        var checks = bullets.Select(b => new BulletCheck(b, Check(b, sources, known))).ToList();
        return new ValidationReport(checks, Stopwatch.GetElapsedTime(started));
    }

    /// <summary>The reasons a bullet fails (empty when it passes).</summary>
    public IReadOnlyList<string> Check(ProposedBullet bullet, IReadOnlyDictionary<int, NumberedSource> sources, IReadOnlySet<string>? knownTickers = null)
    {
        ArgumentNullException.ThrowIfNull(bullet);
        ArgumentNullException.ThrowIfNull(sources);
        var known = knownTickers ?? new HashSet<string>(_knownTickers.Concat(sources.Values.SelectMany(s => s.Tickers)), StringComparer.Ordinal);
        var reasons = new List<string>(bullet.FormatProblems);
        if (bullet.Citations.Count == 0)
        {
            if (!reasons.Exists(r => r.StartsWith("no citation", StringComparison.Ordinal)))
            {
                reasons.Add("no citation");
            }

            return reasons;
        }

        var cited = new List<NumberedSource>();
        foreach (var n in bullet.Citations.Distinct())
        {
            if (sources.TryGetValue(n, out var source))
            {
                cited.Add(source);
            }
            else
            {
                reasons.Add(string.Create(CultureInfo.InvariantCulture, $"cites [{n}], which is not one of the given sources"));
            }
        }

        if (cited.Count == 0)
        {
            return reasons;
        }

        var citedList = string.Concat(cited.Select(s => string.Create(CultureInfo.InvariantCulture, $"[{s.Number}]")));
        var statement = bullet.Headline is { Length: > 0 } h ? $"{h}: {bullet.Text}" : bullet.Text;
        var anyMarket = cited.Exists(s => s.Market is not null);
        foreach (var claim in Figures.Extract(statement))
        {
            if (!cited.Exists(s => s.Figures.Any(f => Figures.Supports(f, claim, currencyLessAmountsCount: s.Market is not null))))
            {
                var what = claim.Kind == FigureKind.Date ? "date" : "figure";
                reasons.Add($"{what} '{claim.Raw}' is not in the cited source(s) {citedList}");
            }
            else if (anyMarket && claim.Kind == FigureKind.Percent && Direction(statement, claim) is { } said
                && cited.Where(s => s.Market is not null).Select(s => MovementFor(s.Market!, claim)).FirstOrDefault(m => m is not null) is { } moved
                && Math.Sign(moved) != 0 && Math.Sign(moved) != said)
            {
                reasons.Add(string.Create(CultureInfo.InvariantCulture,
                    $"'{claim.Raw}' is described as {(said > 0 ? "a rise" : "a fall")}, but the stored bars show {(moved > 0 ? "a rise" : "a fall")} of {Math.Abs(moved):0.00}%"));
            }
        }

        foreach (var ticker in Figures.Tickers(statement, known))
        {
            if (!cited.Exists(s => s.Tickers.Contains(ticker, StringComparer.Ordinal) || Figures.MentionsTicker(s.Text, ticker)))
            {
                reasons.Add($"ticker '{ticker}' is not in the cited source(s) {citedList}");
            }
        }

        return reasons;
    }

    // The stored move (day or five-session) that a percentage figure reports, if it reports one.
    private static decimal? MovementFor(MarketMove move, Figure claim)
    {
        foreach (var p in new[] { move.DayChangePercent, move.FiveDayChangePercent })
        {
            if (p is { } pct && Math.Abs(Math.Abs(pct) - claim.Value) <= claim.Tolerance + 0.0000001m)
            {
                return pct;
            }
        }

        return null;
    }

    // +1 / -1 when the words just before the figure (or its sign) say which way it moved.
    private static int? Direction(string statement, Figure claim)
    {
        if (claim.Sign != 0)
        {
            return claim.Sign;
        }

        var at = statement.IndexOf(claim.Raw, StringComparison.Ordinal);
        if (at < 0)
        {
            return null;
        }

        var before = statement[Math.Max(0, at - 40)..at];
        var matches = DirectionWord().Matches(before);
        if (matches.Count == 0)
        {
            return null;
        }

        return Up().IsMatch(matches[^1].Value) ? 1 : -1;
    }

    [GeneratedRegex(@"\b(?:up|rose|rises|rising|gain(?:ed|s|ing)?|jump(?:ed|s)?|climb(?:ed|s)?|advanc(?:ed|es)|rall(?:ied|ies)|surg(?:ed|es)|higher|added|down|fell|falls|falling|drop(?:ped|s)?|declin(?:ed|es)|slid|slips?|slipped|lower|lost|loses|sank|tumbled|shed)\b", RegexOptions.IgnoreCase)]
    private static partial Regex DirectionWord();

    [GeneratedRegex(@"^(?:up|rose|rises|rising|gain|jump|climb|advanc|rall|surg|higher|added)", RegexOptions.IgnoreCase)]
    private static partial Regex Up();
}
