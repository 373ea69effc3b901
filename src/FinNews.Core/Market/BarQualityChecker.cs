namespace FinNews.Core.Market;

/// <summary>
/// Flags daily bars that look wrong instead of storing garbage silently: non-positive prices, a high/low range that
/// does not contain open and close, 100x unit jumps (pence vs pounds, cents vs dollars), unadjusted stock splits and
/// gaps in the series. Flagged bars are kept (an analyst may know better) and shown with their flags.
/// </summary>
public static class BarQualityChecker
{
    /// <summary>Flag for a price at or below zero.</summary>
    public const string NonPositive = "non-positive-price";

    /// <summary>Flag for open/close outside [low, high].</summary>
    public const string InconsistentRange = "inconsistent-range";

    /// <summary>Flag for a bar about 100x off its neighbours (currency sub-unit confusion).</summary>
    public const string UnitError = "unit-100x";

    /// <summary>Flag for a jump by a split-like ratio (2:1, 3:1, 1:10...) that was not adjusted for.</summary>
    public const string SuspectedSplit = "suspected-unadjusted-split";

    /// <summary>Flag for bars before a reported dividend whose adjusted close was never adjusted for it.</summary>
    public const string MissingDividendAdjustment = "missing-dividend-adjustment";

    /// <summary>Flag for a reported dividend implausibly large against the price (a unit or data error).</summary>
    public const string SuspectDividend = "suspect-dividend";

    /// <summary>A single dividend above this share of the previous close is suspect.</summary>
    public const decimal MaxDividendYield = 0.10m;

    /// <summary>Flag on the first bar after a gap of more than <see cref="MaxGapDays"/> calendar days.</summary>
    public const string Gap = "gap-before";

    /// <summary>Calendar days between bars above which a gap is flagged (covers weekends and long holidays).</summary>
    public const int MaxGapDays = 5;

    private static readonly double[] SplitRatios = [2, 3, 4, 5, 8, 10, 20, 1.5];

    /// <summary>What a flag means, in words a reader of the market page understands; the flag itself when unknown.</summary>
    public static string Describe(string flag) => flag switch
    {
        NonPositive => "a price at or below zero",
        InconsistentRange => "open or close outside the day's high-low range",
        UnitError => "about 100 times off its neighbours (a currency sub-unit mix-up?)",
        SuspectedSplit => "a jump by a split-like ratio that was not adjusted for",
        MissingDividendAdjustment => "adjusted close not adjusted for a later dividend",
        SuspectDividend => "a dividend implausibly large against the price",
        Gap => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"more than {MaxGapDays} calendar days after the previous bar"),
        _ => flag,
    };

    /// <summary>Returns the bars (any order in, date order out, per symbol) with their flags set.</summary>
    public static IReadOnlyList<DailyBar> Check(IEnumerable<DailyBar> bars)
    {
        ArgumentNullException.ThrowIfNull(bars);
        var result = new List<DailyBar>();
        foreach (var series in bars.GroupBy(b => b.Symbol, StringComparer.Ordinal))
        {
            var ordered = series.OrderBy(b => b.Date).ToList();
            var flags = ordered.Select(b => new List<string>(b.Flags)).ToList();
            for (var i = 0; i < ordered.Count; i++)
            {
                var b = ordered[i];
                if (b.Open <= 0 || b.High <= 0 || b.Low <= 0 || b.Close <= 0)
                {
                    Add(flags[i], NonPositive);
                }

                if (b.High < b.Low || b.Close > b.High || b.Close < b.Low || b.Open > b.High || b.Open < b.Low)
                {
                    Add(flags[i], InconsistentRange);
                }

                if (i > 0 && b.Date.DayNumber - ordered[i - 1].Date.DayNumber > MaxGapDays)
                {
                    Add(flags[i], Gap);
                }
            }

            FlagJumps(ordered, flags);
            FlagDividends(ordered, flags);
            result.AddRange(ordered.Select((b, i) => b with { Flags = flags[i] }));
        }

        return result;
    }

    // A jump between consecutive closes by ~100x, or by a split ratio, moves the series to another price level. Each
    // bar's level is the product of the jumps before it; bars at the level most of the series sits at are taken as
    // right, the others are flagged with the kind of the jump that moved them there (a one-day 100x blip that comes
    // straight back flags that day only).
    private static void FlagJumps(List<DailyBar> ordered, List<List<string>> flags)
    {
        var level = new double[ordered.Count];
        var kindAt = new string?[ordered.Count];
        string? lastKind = null;
        for (var i = 1; i < ordered.Count; i++)
        {
            level[i] = level[i - 1];
            kindAt[i] = kindAt[i - 1];
            var previous = (double)ordered[i - 1].Close;
            var current = (double)ordered[i].Close;
            if (previous <= 0 || current <= 0)
            {
                continue;
            }

            var ratio = Math.Max(previous, current) / Math.Min(previous, current);
            string? kind = ratio is >= 70 and <= 140 ? UnitError
                : ratio >= 1.45 && (SplitRatios.Any(r => Math.Abs(ratio - r) / r < 0.06) || NearReportedSplit(ordered, i, ratio)) ? SuspectedSplit
                : null;
            if (kind is not null)
            {
                level[i] += Math.Log(current / previous);
                kindAt[i] = kind;
                lastKind = kind;
            }
        }

        if (lastKind is null)
        {
            return;
        }

        // Levels within ~10% of each other are the same level (the jump back rarely lands on the exact price).
        static long Key(double logLevel) => (long)Math.Round(logLevel / 0.1);
        var main = level.GroupBy(Key).OrderByDescending(g => g.Count()).ThenBy(g => Math.Abs(g.Key)).First().Key;
        for (var i = 0; i < ordered.Count; i++)
        {
            if (Key(level[i]) != main)
            {
                // Bars before the first jump have no kind of their own: they take the kind of the jump that ended them.
                Add(flags[i], kindAt[i] ?? kindAt.First(k => k is not null)!);
            }
        }
    }

    // A jump that matches a split the provider itself reports within two weeks is that split, not applied.
    private static bool NearReportedSplit(List<DailyBar> ordered, int i, double ratio)
    {
        foreach (var bar in ordered)
        {
            if (bar.SplitRatio is > 0 and not 1 && Math.Abs(bar.Date.DayNumber - ordered[i].Date.DayNumber) <= 14)
            {
                var reported = (double)bar.SplitRatio.Value;
                var factor = reported >= 1 ? reported : 1 / reported;
                if (Math.Abs(ratio - factor) / factor < 0.06)
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static void FlagDividends(List<DailyBar> ordered, List<List<string>> flags)
    {
        for (var i = 1; i < ordered.Count; i++)
        {
            if (ordered[i].Dividend is not > 0 || ordered[i].Dividend is not { } dividend)
            {
                continue;
            }

            var before = ordered[i - 1];
            if (before.Close > 0 && dividend / before.Close > MaxDividendYield)
            {
                Add(flags[i], SuspectDividend);
            }

            for (var j = 0; j < i; j++)
            {
                if (ordered[j].AdjClose is { } adj && ordered[j].Close > 0 && Math.Abs(adj - ordered[j].Close) / ordered[j].Close < 0.0005m)
                {
                    Add(flags[j], MissingDividendAdjustment);
                }
            }
        }
    }

    private static void Add(List<string> flags, string flag)
    {
        if (!flags.Contains(flag))
        {
            flags.Add(flag);
        }
    }
}
