using System.Globalization;
using System.Text.Json;

namespace FinNews.Core.Market;

/// <summary>A source of daily bars for a symbol.</summary>
/// <remarks>Implementations return bars as the provider gives them; <see cref="BarQualityChecker"/> flags bad data afterwards.</remarks>
public interface IMarketDataProvider
{
    /// <summary>Provider name recorded on each bar and shown when bars are cited.</summary>
    string Name { get; }

    /// <summary>Daily bars for one symbol, any order.</summary>
    Task<IReadOnlyList<DailyBar>> GetDailyBarsAsync(string symbol, CancellationToken cancellationToken);
}

/// <summary>A provider answered, but with an error instead of data (bad symbol, rate limit, missing key).</summary>
public sealed class MarketDataException : Exception
{
    public MarketDataException(string message) : base(message) { }
    public MarketDataException(string message, Exception inner) : base(message, inner) { }
    public MarketDataException() { }
}

/// <summary>Stooq's free daily CSV (<c>/q/d/l/?s=aapl.us&amp;i=d</c>): Date,Open,High,Low,Close,Volume.</summary>
public sealed class StooqProvider(HttpClient http, Uri baseUrl, string symbolSuffix = ".us") : IMarketDataProvider
{
    /// <inheritdoc/>
    public string Name => "Stooq";

    /// <inheritdoc/>
    public async Task<IReadOnlyList<DailyBar>> GetDailyBarsAsync(string symbol, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(symbol);
        var uri = new Uri(baseUrl, $"/q/d/l/?s={Uri.EscapeDataString(symbol.ToLowerInvariant() + symbolSuffix)}&i=d");
        using var response = await http.GetAsync(uri, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new MarketDataException($"Stooq answered {(int)response.StatusCode} for {symbol}.");
        }

        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        // Stooq answers an unknown symbol with 200 and the body "No data".
        if (!text.StartsWith("Date,", StringComparison.OrdinalIgnoreCase))
        {
            throw new MarketDataException($"Stooq has no daily data for {symbol}: {Preview(text)}");
        }

        return OhlcvCsv.Parse(text, $"Stooq data for {symbol}", Name, symbol);
    }

    internal static string Preview(string text) => text.Length > 120 ? text[..120] + "…" : text.Trim();
}

/// <summary>
/// Alpha Vantage: TIME_SERIES_DAILY for bars and GLOBAL_QUOTE for the latest session. The key comes from an
/// environment variable and is never logged; the service reports errors and rate limits inside a 200 response.
/// </summary>
public sealed class AlphaVantageProvider(HttpClient http, Uri baseUrl, string apiKey) : IMarketDataProvider
{
    /// <inheritdoc/>
    public string Name => "Alpha Vantage";

    /// <inheritdoc/>
    public async Task<IReadOnlyList<DailyBar>> GetDailyBarsAsync(string symbol, CancellationToken cancellationToken)
    {
        using var doc = await GetAsync("TIME_SERIES_DAILY", symbol, cancellationToken);
        return ParseTimeSeries(doc.RootElement, symbol, Name);
    }

    /// <summary>The latest session's quote as a bar (GLOBAL_QUOTE).</summary>
    public async Task<DailyBar> GetQuoteAsync(string symbol, CancellationToken cancellationToken)
    {
        using var doc = await GetAsync("GLOBAL_QUOTE", symbol, cancellationToken);
        return ParseGlobalQuote(doc.RootElement, Name);
    }

    private async Task<JsonDocument> GetAsync(string function, string symbol, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(symbol);
        var uri = new Uri(baseUrl, $"/query?function={function}&symbol={Uri.EscapeDataString(symbol)}&outputsize=compact&apikey={Uri.EscapeDataString(apiKey)}");
        using var response = await http.GetAsync(uri, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new MarketDataException($"Alpha Vantage answered {(int)response.StatusCode} for {function} {symbol}.");
        }

        var doc = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken), cancellationToken: cancellationToken);
        foreach (var key in new[] { "Error Message", "Note", "Information" })
        {
            if (doc.RootElement.TryGetProperty(key, out var message))
            {
                var text = message.ToString();
                doc.Dispose();
                throw new MarketDataException($"Alpha Vantage refused {function} {symbol}: {text}");
            }
        }

        return doc;
    }

    /// <summary>
    /// Parses any "Time Series (...)" response. Daily series map one-to-one; intraday series are rolled up into one
    /// bar per exchange-local date (first open, max high, min low, last close, summed volume).
    /// </summary>
    public static IReadOnlyList<DailyBar> ParseTimeSeries(JsonElement root, string symbol, string source)
    {
        var series = root.EnumerateObject().FirstOrDefault(p => p.Name.StartsWith("Time Series", StringComparison.Ordinal));
        if (series.Value.ValueKind != JsonValueKind.Object)
        {
            throw new MarketDataException($"Alpha Vantage response for {symbol} has no \"Time Series\" object.");
        }

        var points = series.Value.EnumerateObject().Select(p =>
        {
            var stamp = p.Name.Length >= 10 ? p.Name[..10] : p.Name;
            return (Date: DateOnly.ParseExact(stamp, "yyyy-MM-dd", CultureInfo.InvariantCulture), Time: p.Name,
                Open: Field(p.Value, "1. open"), High: Field(p.Value, "2. high"), Low: Field(p.Value, "3. low"),
                Close: Field(p.Value, "4. close"), Volume: (long)Field(p.Value, "5. volume"));
        }).ToList();

        return points.GroupBy(p => p.Date).Select(day =>
        {
            var ordered = day.OrderBy(p => p.Time, StringComparer.Ordinal).ToList();
            return new DailyBar(symbol.ToUpperInvariant(), day.Key, ordered[0].Open, ordered.Max(p => p.High), ordered.Min(p => p.Low),
                ordered[^1].Close, ordered.Sum(p => p.Volume), source, []);
        }).OrderBy(b => b.Date).ToList();
    }

    /// <summary>Parses a GLOBAL_QUOTE response into a bar for its latest trading day.</summary>
    public static DailyBar ParseGlobalQuote(JsonElement root, string source)
    {
        if (!root.TryGetProperty("Global Quote", out var q) || q.ValueKind != JsonValueKind.Object)
        {
            throw new MarketDataException("Alpha Vantage response has no \"Global Quote\" object.");
        }

        var day = q.GetProperty("07. latest trading day").GetString() ?? "";
        return new DailyBar(q.GetProperty("01. symbol").GetString()!.ToUpperInvariant(),
            DateOnly.ParseExact(day, "yyyy-MM-dd", CultureInfo.InvariantCulture),
            Field(q, "02. open"), Field(q, "03. high"), Field(q, "04. low"), Field(q, "05. price"), (long)Field(q, "06. volume"), source, []);
    }

    private static decimal Field(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && decimal.TryParse(v.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d)
            ? d
            : throw new MarketDataException($"Alpha Vantage field \"{name}\" is missing or not a number.");
}
