using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace FinNews.Core.Briefing;

/// <summary>What kind of claim a figure makes.</summary>
public enum FigureKind
{
    /// <summary>A percentage (2.5%, 2.50 percent, 2.5 per cent).</summary>
    Percent,

    /// <summary>A rate change in basis points (25bp, 25 basis points, 0.25 percentage point = 25).</summary>
    BasisPoints,

    /// <summary>A money amount or scaled count ($1.2bn, 1.2 billion dollars, $1,200 million, 300,000 shares is Plain).</summary>
    Amount,

    /// <summary>A bare figure (44, 7.3, 2026).</summary>
    Plain,

    /// <summary>A calendar date (20 November, Nov. 20, 2026-11-20).</summary>
    Date,
}

/// <summary>
/// One figure found in text, normalized: <see cref="Value"/> in base units (dollars, percent, basis points) and the
/// <see cref="Tolerance"/> its written precision allows (half a unit of the last digit written: "$1.2bn" stands for
/// 1.15bn to 1.25bn).
/// </summary>
public sealed record Figure(FigureKind Kind, decimal Value, decimal Tolerance, decimal Written, string? Currency, string Raw,
    int Month = 0, int Day = 0, int? Year = null, int Sign = 0)
{
    /// <summary>Short form for violation messages.</summary>
    public override string ToString() => Raw;
}

/// <summary>
/// Finds and normalizes the figures, dates and tickers a statement rests on, so the citation validator can look for
/// them in sources written differently (2.5% = 2.50 percent = 2.5 per cent; $1.2bn = 1.2 billion dollars = $1,200
/// million; 25bp = 25 basis points = 0.25 percentage point; 20 November = Nov. 20 = 2026-11-20).
/// </summary>
/// <remarks>
/// Decisions: basis points and percentage points are one unit (a change in a rate), but neither equals a plain "%"
/// (0.25% may be a growth rate, so "cut by 0.25%" is not accepted for "25 basis points"). Signs and direction words
/// are not part of a figure (sources say "fell 3%" or "-3%"); market bullets get a separate direction check.
/// </remarks>
public static partial class Figures
{
    private const string Months = "January|February|March|April|May|June|July|August|September|October|November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec";

    /// <summary>Every figure in <paramref name="text"/>: dates first, then amounts, percentages and basis points, then
    /// the remaining bare numbers.</summary>
    public static IReadOnlyList<Figure> Extract(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var figures = new List<Figure>();
        var masked = new StringBuilder(text.Replace('\u2212', '-').Replace('\u00A0', ' '));

        void Mask(Match m)
        {
            for (var i = m.Index; i < m.Index + m.Length; i++)
            {
                masked[i] = ' ';
            }
        }

        foreach (var regex in new[] { IsoDate(), DayMonth(), MonthDay() })
        {
            foreach (Match m in regex.Matches(masked.ToString()))
            {
                var month = MonthNumber(m.Groups["mon"].Value, m.Groups["m"].Value);
                if (month == 0 || !int.TryParse(m.Groups["d"].Value, CultureInfo.InvariantCulture, out var day) || day is < 1 or > 31)
                {
                    continue;
                }

                int? year = int.TryParse(m.Groups["y"].Value, CultureInfo.InvariantCulture, out var y) ? y : null;
                figures.Add(new Figure(FigureKind.Date, 0, 0, 0, null, m.Value.Trim().TrimEnd('.', ','), month, day, year));
                Mask(m);
            }
        }

        foreach (Match m in Quantity().Matches(masked.ToString()))
        {
            var number = decimal.Parse(m.Groups["num"].Value.Replace(",", "", StringComparison.Ordinal), NumberStyles.Number, CultureInfo.InvariantCulture);
            var dot = m.Groups["num"].Value.IndexOf('.', StringComparison.Ordinal);
            var precision = dot < 0 ? 1m : Pow10(-(m.Groups["num"].Value.Length - dot - 1));
            var unit = m.Groups["unit"].Value.ToLowerInvariant().Replace(" ", "", StringComparison.Ordinal);
            var currency = Currency(m.Groups["cur"].Value, m.Groups["curword"].Value);
            var sign = m.Groups["sign"].Value switch { "+" => 1, "-" => -1, _ => 0 };
            var raw = m.Value.Trim();
            Figure figure;
            var isPoints = unit.StartsWith("percentagepoint", StringComparison.Ordinal) || unit is "pp" or "ppt" or "ppts";
            if (!isPoints && (unit is "%" or "pct" || unit.StartsWith("percent", StringComparison.Ordinal)))
            {
                figure = new Figure(FigureKind.Percent, number, precision / 2, number, null, raw, Sign: sign);
            }
            else if (isPoints)
            {
                figure = new Figure(FigureKind.BasisPoints, number * 100, precision * 50, number, null, raw, Sign: sign);
            }
            else if (unit is "bp" or "bps" || unit.StartsWith("basispoint", StringComparison.Ordinal))
            {
                figure = new Figure(FigureKind.BasisPoints, number, precision / 2, number, null, raw, Sign: sign);
            }
            else if (Multiplier(unit) is { } multiplier)
            {
                figure = new Figure(FigureKind.Amount, number * multiplier, precision * multiplier / 2, number, currency, raw, Sign: sign);
            }
            else if (currency is not null)
            {
                figure = new Figure(FigureKind.Amount, number, precision / 2, number, currency, raw, Sign: sign);
            }
            else
            {
                figure = new Figure(FigureKind.Plain, number, precision / 2, number, null, raw, Sign: sign);
            }

            figures.Add(figure);
        }

        return figures;
    }

    /// <summary>True when <paramref name="claim"/> (from a bullet) is supported by <paramref name="source"/> (from a
    /// cited source) within the precision the claim was written with.</summary>
    public static bool Supports(Figure source, Figure claim, bool currencyLessAmountsCount = false)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(claim);
        bool Near(decimal s, decimal c, decimal tolerance) => Math.Abs(Math.Abs(s) - Math.Abs(c)) <= tolerance + 0.0000001m;
        switch (claim.Kind)
        {
            case FigureKind.Date:
                return source.Kind == FigureKind.Date && source.Month == claim.Month && source.Day == claim.Day
                    && (source.Year is null || claim.Year is null || source.Year == claim.Year);
            case FigureKind.Percent or FigureKind.BasisPoints:
                return source.Kind == claim.Kind && Near(source.Value, claim.Value, claim.Tolerance);
            case FigureKind.Amount:
                if (source.Kind is FigureKind.Amount && (claim.Currency is null || source.Currency == claim.Currency
                    || source.Currency is null && currencyLessAmountsCount))
                {
                    return Near(source.Value, claim.Value, claim.Tolerance);
                }

                // A market close is stored without a currency: "$123.45" may rest on the bare 123.45 of a bar.
                return currencyLessAmountsCount && source.Kind == FigureKind.Plain && Near(source.Value, claim.Value, claim.Tolerance);
            default:
                // A bare number rests on any figure written with the same digits ("rose 44" on "44%", "2026" on a date).
                return source.Kind == FigureKind.Date
                    ? claim.Value == source.Day || claim.Value == source.Year
                    : Near(source.Written, claim.Value, claim.Tolerance) || Near(source.Value, claim.Value, claim.Tolerance);
        }
    }

    /// <summary>Cashtags ($NVLX), exchange forms (NASDAQ: NVLX) and bare symbols from <paramref name="known"/> (two
    /// letters or more, so the article "A" is never a ticker).</summary>
    public static IReadOnlyList<string> Tickers(string text, IReadOnlySet<string> known)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(known);
        var found = new List<string>();
        foreach (Match m in Cashtag().Matches(text))
        {
            found.Add(m.Groups["t"].Value);
        }

        foreach (Match m in ExchangeTicker().Matches(text))
        {
            found.Add(m.Groups["t"].Value);
        }

        foreach (Match m in UpperWord().Matches(text))
        {
            if (m.Value.Length >= 2 && known.Contains(m.Value))
            {
                found.Add(m.Value);
            }
        }

        return found.Distinct(StringComparer.Ordinal).ToList();
    }

    /// <summary>True when the ticker is written in <paramref name="text"/> as a word or cashtag.</summary>
    public static bool MentionsTicker(string text, string ticker) =>
        Regex.IsMatch(text, $@"(?<![\p{{L}}\d]){Regex.Escape(ticker)}(?![\p{{L}}\d])", RegexOptions.CultureInvariant, Regex.InfiniteMatchTimeout); // linear: a literal between lookarounds

    private static decimal Pow10(int exponent)
    {
        var result = 1m;
        for (var i = 0; i < Math.Abs(exponent); i++)
        {
            result = exponent < 0 ? result / 10 : result * 10;
        }

        return result;
    }

    private static decimal? Multiplier(string unit) => unit switch
    {
        "k" or "thousand" => 1_000m,
        "m" or "mn" or "mln" or "million" => 1_000_000m,
        "b" or "bn" or "bln" or "billion" => 1_000_000_000m,
        "tn" or "trillion" => 1_000_000_000_000m,
        _ => null,
    };

    private static string? Currency(string symbol, string word) => (symbol, word.ToLowerInvariant()) switch
    {
        ("$" or "US$" or "USD", _) or (_, "dollars" or "dollar" or "usd") => "USD",
        ("€" or "EUR", _) or (_, "euros" or "euro" or "eur") => "EUR",
        ("£" or "GBP", _) or (_, "pounds" or "pound" or "sterling" or "gbp") => "GBP",
        ("¥" or "JPY", _) or (_, "yen" or "jpy") => "JPY",
        _ => null,
    };

    private static int MonthNumber(string name, string digits)
    {
        if (digits.Length > 0)
        {
            return int.Parse(digits, CultureInfo.InvariantCulture);
        }

        return name.Length < 3 ? 0 : name[..3] switch
        {
            "Jan" => 1, "Feb" => 2, "Mar" => 3, "Apr" => 4, "May" => 5, "Jun" => 6,
            "Jul" => 7, "Aug" => 8, "Sep" => 9, "Oct" => 10, "Nov" => 11, "Dec" => 12,
            _ => 0,
        };
    }

    [GeneratedRegex(@"(?<!\d)(?<y>(?:19|20)\d\d)-(?<m>0[1-9]|1[0-2])-(?<d>0[1-9]|[12]\d|3[01])(?!\d)")]
    private static partial Regex IsoDate();

    [GeneratedRegex(@"(?<![\d.])(?<d>[0-3]?\d)(?:st|nd|rd|th)?\s+(?:of\s+)?(?<mon>" + Months + @")(?![a-z])\.?(?:,?\s+(?<y>(?:19|20)\d\d)(?!\d))?")]
    private static partial Regex DayMonth();

    [GeneratedRegex(@"(?<![\p{L}])(?<mon>" + Months + @")(?![a-z])\.?\s+(?<d>[0-3]?\d)(?:st|nd|rd|th)?(?![\d.,]\d)(?!\d)(?:,?\s+(?<y>(?:19|20)\d\d)(?!\d))?")]
    private static partial Regex MonthDay();

    // sign? currency? number unit? currency-word?  The number must not continue a word (Q3, FY2026, 10-K's "K" is fine).
    [GeneratedRegex(@"(?<sign>[+\-])?(?<cur>US\$|\$|€|£|¥|USD\s|EUR\s|GBP\s)?(?<![\p{L}\d.,])(?<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?:\s?(?<unit>%|per\s?cent\b|percentage\s+points?\b|pp\b|ppts?\b|pct\b|percent\b|bps\b|bp\b|basis\s+points?\b|tn\b|trillion\b|bn\b|bln\b|billion\b|mn\b|mln\b|million\b|thousand\b|[kmb]\b))?(?:\s+(?<curword>dollars?|euros?|pounds?|sterling|yen)\b)?(?![\d])")]
    private static partial Regex Quantity();

    [GeneratedRegex(@"(?<![\w$])\$(?<t>[A-Z]{1,5}(?:\.[A-Z])?)\b")]
    private static partial Regex Cashtag();

    [GeneratedRegex(@"\b(?:NASDAQ|Nasdaq|NYSE|LSE|AMEX|TSX|XETRA)\s*:\s*(?<t>[A-Z]{1,5}(?:\.[A-Z])?)\b")]
    private static partial Regex ExchangeTicker();

    [GeneratedRegex(@"(?<![\p{L}$])[A-Z]{2,5}(?![\p{L}])")]
    private static partial Regex UpperWord();
}
