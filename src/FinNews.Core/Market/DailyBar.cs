using System.Globalization;

namespace FinNews.Core.Market;

/// <summary>One trading day of a symbol.</summary>
/// <param name="Flags">Data-quality flags raised by checks (empty when clean).</param>
public sealed record DailyBar(
    string Symbol,
    DateOnly Date,
    decimal Open,
    decimal High,
    decimal Low,
    decimal Close,
    long Volume,
    string Source,
    IReadOnlyList<string> Flags);

/// <summary>Reads a generic OHLCV CSV: header <c>symbol,date,open,high,low,close,volume</c> (any column order).</summary>
public static class OhlcvCsv
{
    private static readonly string[] Required = ["symbol", "date", "open", "high", "low", "close", "volume"];

    /// <summary>Parses bars; a bad row is an error naming the file, line and field.</summary>
    public static IReadOnlyList<DailyBar> Read(string path, string source)
    {
        var lines = File.ReadAllLines(path);
        if (lines.Length == 0)
        {
            throw new InvalidDataException($"Market data file '{path}' is empty.");
        }

        var header = lines[0].Split(',').Select(h => h.Trim().ToLowerInvariant()).ToArray();
        var index = new Dictionary<string, int>();
        foreach (var name in Required)
        {
            var i = Array.IndexOf(header, name);
            if (i < 0)
            {
                throw new InvalidDataException($"Market data file '{path}': header lacks column '{name}' (found: {lines[0]}).");
            }

            index[name] = i;
        }

        var bars = new List<DailyBar>(lines.Length);
        for (var n = 1; n < lines.Length; n++)
        {
            var line = lines[n];
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            var cells = line.Split(',');
            string Cell(string name) => index[name] < cells.Length
                ? cells[index[name]].Trim()
                : throw new InvalidDataException($"Market data file '{path}', line {n + 1}: missing column '{name}'.");
            decimal Number(string name) => decimal.TryParse(Cell(name), NumberStyles.Float, CultureInfo.InvariantCulture, out var v)
                ? v
                : throw new InvalidDataException($"Market data file '{path}', line {n + 1}: {name} '{Cell(name)}' is not a number.");

            if (!DateOnly.TryParseExact(Cell("date"), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
            {
                throw new InvalidDataException($"Market data file '{path}', line {n + 1}: date '{Cell("date")}' is not yyyy-MM-dd.");
            }

            var flags = new List<string>();
            decimal open = Number("open"), high = Number("high"), low = Number("low"), close = Number("close");
            if (open <= 0 || high <= 0 || low <= 0 || close <= 0)
            {
                flags.Add("non-positive-price");
            }

            if (high < low || close > high || close < low || open > high || open < low)
            {
                flags.Add("inconsistent-range");
            }

            bars.Add(new DailyBar(Cell("symbol").ToUpperInvariant(), date, open, high, low, close,
                (long)Number("volume"), source, flags));
        }

        return bars;
    }
}
