using System.Text.RegularExpressions;

namespace FinNews.Core.Feeds;

/// <summary>
/// Finds watchlist companies in article text: cashtags ($NVLX), exchange forms (NASDAQ: NVLX), company names and
/// aliases on word boundaries, and the bare symbol unless it is also a common word.
/// </summary>
public sealed class TickerTagger
{
    private readonly List<(string Symbol, string[] Literals, Regex Pattern)> _patterns;

    public TickerTagger(Watchlist watchlist)
    {
        ArgumentNullException.ThrowIfNull(watchlist);
        _patterns = watchlist.Tickers.Select(t => (t.Symbol, Literals(t), Build(t))).ToList();
    }

    /// <summary>Symbols mentioned in the text, in watchlist order, each once.</summary>
    public IReadOnlyList<string> Tag(string text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return [];
        }

        List<string>? symbols = null;
        foreach (var (symbol, literals, pattern) in _patterns)
        {
            // Every form of the pattern contains the symbol or a name verbatim (case-sensitively), so a text without
            // any of them cannot match: a vectorized substring search rules out most entries before the regex runs.
            if (ContainsAny(text, literals) && pattern.IsMatch(text))
            {
                (symbols ??= []).Add(symbol);
            }
        }

        return symbols ?? (IReadOnlyList<string>)[];
    }

    private static bool ContainsAny(string text, string[] literals)
    {
        foreach (var literal in literals)
        {
            if (text.Contains(literal, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    // The literal text each form of Build's pattern requires: the symbol (cashtag, exchange form, bare symbol) or a name.
    private static string[] Literals(WatchlistEntry t) =>
        new[] { t.Symbol, t.Name }.Concat(t.Aliases ?? []).Where(n => !string.IsNullOrWhiteSpace(n)).Select(n => n.Trim()).Distinct(StringComparer.Ordinal).ToArray();

    private static Regex Build(WatchlistEntry t)
    {
        var symbol = Regex.Escape(t.Symbol);
        var forms = new List<string>
        {
            // Cashtag: $NVLX, not part of a longer symbol or a dollar amount.
            $@"\${symbol}(?![A-Za-z0-9])",
            // Exchange form: (NASDAQ: NVLX), NYSE:NVLX, Nasdaq: NVLX.
            $@"\b(?i:NASDAQ|NYSE|NYSE\s+American|NYSEARCA|AMEX|LSE|TSX|TSXV|XETRA|ASX|OTC)\s*:\s*{symbol}(?![A-Za-z0-9])",
        };

        if (!t.Ambiguous)
        {
            // The bare symbol in upper case only: "NVLX shares" yes, "nvlx" in a URL slug no.
            forms.Add($@"(?<![A-Za-z0-9$.\-/]){symbol}(?![A-Za-z0-9\-/])");
        }

        foreach (var name in new[] { t.Name }.Concat(t.Aliases ?? []))
        {
            if (!string.IsNullOrWhiteSpace(name))
            {
                // Names match case-sensitively: "Hope Pharma" is the company, "hope" is a word.
                forms.Add($@"(?<![\p{{L}}\p{{N}}]){Regex.Escape(name.Trim())}(?![\p{{L}}\p{{N}}])");
            }
        }

        // No match timeout: the pattern is literals, fixed-width lookarounds and one \s*:\s*, so matching is linear in
        // the text (bounded by the parser's field limit). A wall-clock timeout only fired on a busy machine, failing
        // a whole feed's ingest for nothing.
        return new Regex(string.Join('|', forms), RegexOptions.CultureInvariant | RegexOptions.Compiled, Regex.InfiniteMatchTimeout);
    }
}
