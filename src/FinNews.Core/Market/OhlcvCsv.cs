using System.Globalization;

namespace FinNews.Core.Market;

/// <summary>
/// Reads daily OHLCV CSV in the common layouts: FinNews' generic <c>symbol,date,open,high,low,close,volume</c>,
/// Stooq's <c>Date,Open,High,Low,Close,Volume</c> and yfinance's <c>Date|Datetime,Open,High,Low,Close,Adj Close,Volume,...</c>
/// (any column order, header names case-insensitive).
/// </summary>
public static class OhlcvCsv
{
    /// <summary>Parses a file; a bad row is an error naming the file, line and field.</summary>
    /// <param name="path">The CSV file.</param>
    /// <param name="source">Provider name recorded on each bar.</param>
    /// <param name="symbol">Symbol for files without a symbol column.</param>
    public static IReadOnlyList<DailyBar> Read(string path, string source, string? symbol = null) =>
        Parse(File.ReadAllText(path), $"Market data file '{path}'", source, symbol);

    /// <summary>Parses CSV text; <paramref name="origin"/> names where it came from in error messages.</summary>
    public static IReadOnlyList<DailyBar> Parse(string text, string origin, string source, string? symbol = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        var lines = text.Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        if (lines.Length == 0 || string.IsNullOrWhiteSpace(lines[0]))
        {
            throw new InvalidDataException($"{origin} is empty.");
        }

        var header = lines[0].Trim('\uFEFF').Split(',').Select(h => h.Trim().ToLowerInvariant()).ToArray();
        int Column(params string[] names)
        {
            foreach (var name in names)
            {
                var i = Array.IndexOf(header, name);
                if (i >= 0)
                {
                    return i;
                }
            }

            return -1;
        }

        var columns = new Dictionary<string, int>
        {
            ["date"] = Column("date", "datetime", "timestamp"),
            ["open"] = Column("open"),
            ["high"] = Column("high"),
            ["low"] = Column("low"),
            ["close"] = Column("close"),
            ["volume"] = Column("volume"),
        };
        foreach (var (name, index) in columns)
        {
            if (index < 0)
            {
                throw new InvalidDataException($"{origin}: header lacks column '{name}' (found: {lines[0]}).");
            }
        }

        var symbolColumn = Column("symbol", "ticker");
        var adjColumn = Column("adj close", "adj_close", "adjclose");
        var dividendColumn = Column("dividends", "dividend");
        var splitColumn = Column("stock splits", "splits", "split");
        if (symbolColumn < 0 && string.IsNullOrWhiteSpace(symbol))
        {
            throw new InvalidDataException($"{origin}: no 'symbol' column and no symbol given.");
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
            string Cell(string name, int index) => index < cells.Length
                ? cells[index].Trim()
                : throw new InvalidDataException($"{origin}, line {n + 1}: missing column '{name}'.");
            decimal Number(string name)
            {
                var cell = Cell(name, columns[name]);
                return decimal.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out var v)
                    ? v
                    : throw new InvalidDataException($"{origin}, line {n + 1}: {name} '{cell}' is not a number.");
            }

            var date = ParseDate(Cell("date", columns["date"]))
                ?? throw new InvalidDataException($"{origin}, line {n + 1}: date '{Cell("date", columns["date"])}' is not a date.");
            var sym = symbolColumn >= 0 ? Cell("symbol", symbolColumn).ToUpperInvariant() : symbol!.ToUpperInvariant();
            decimal? Optional(int index) => index >= 0 && index < cells.Length
                && decimal.TryParse(cells[index].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : null;
            bars.Add(new DailyBar(sym, date, Number("open"), Number("high"), Number("low"), Number("close"),
                (long)Number("volume"), source, [], Optional(adjColumn), Optional(dividendColumn), Optional(splitColumn)));
        }

        return bars;
    }

    // "2026-11-20", or a timestamp with the exchange's offset ("2022-06-06 00:00:00+01:00"): the local trading date.
    private static DateOnly? ParseDate(string value)
    {
        if (DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d))
        {
            return d;
        }

        return DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t)
            ? DateOnly.FromDateTime(t.DateTime)
            : null;
    }
}
