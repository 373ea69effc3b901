using Microsoft.Extensions.Logging;

namespace FinNews.Core.Market;

/// <summary>A configured OHLCV file (section "Market:Files").</summary>
public sealed class MarketFileOptions
{
    /// <summary>CSV path, relative to the config folder.</summary>
    public string Path { get; set; } = "";

    /// <summary>Provider name shown when bars are cited.</summary>
    public string Source { get; set; } = "";

    /// <summary>True for sample (fictional) data such as the bundled file: its bars are badged "sample" wherever they are shown.</summary>
    public bool Sample { get; set; }
}

/// <summary>An HTTP market-data provider (section "Market:Providers").</summary>
public sealed class MarketProviderOptions
{
    /// <summary>"stooq" or "alphavantage".</summary>
    public string Type { get; set; } = "";

    /// <summary>Symbols to fetch (default: the watchlist).</summary>
    public List<string> Symbols { get; set; } = [];

    /// <summary>Base URL (default: the provider's public endpoint).</summary>
    public string? BaseUrl { get; set; }

    /// <summary>Environment variable holding the API key (Alpha Vantage).</summary>
    public string ApiKeyEnv { get; set; } = "ALPHAVANTAGE_API_KEY";

    /// <summary>Suffix Stooq needs for the market (".us").</summary>
    public string SymbolSuffix { get; set; } = ".us";
}

/// <summary>Market-data settings (section "Market").</summary>
public sealed class MarketOptions
{
    /// <summary>Generic OHLCV CSV files loaded on each market-data run.</summary>
    public List<MarketFileOptions> Files { get; set; } = [];

    /// <summary>HTTP providers polled on each market-data run (none by default: the embedded setup is offline).</summary>
    public List<MarketProviderOptions> Providers { get; set; } = [];
}

/// <summary>Loads configured market-data files into the store (upsert: reloading never duplicates).</summary>
public sealed class MarketDataLoader
{
    private readonly IMarketStore _store;
    private readonly MarketOptions _options;
    private readonly string _configDirectory;
    private readonly ILogger<MarketDataLoader> _logger;
    private readonly HttpClient? _http;
    private readonly IReadOnlyList<string> _watchlist;

    public MarketDataLoader(IMarketStore store, MarketOptions options, string configDirectory, ILogger<MarketDataLoader> logger,
        HttpClient? http = null, IReadOnlyList<string>? watchlist = null)
    {
        _store = store;
        _options = options;
        _configDirectory = configDirectory;
        _logger = logger;
        _http = http;
        _watchlist = watchlist ?? [];
    }

    /// <summary>Loads the configured files, then polls the configured HTTP providers.</summary>
    public async Task<int> LoadAllAsync(CancellationToken cancellationToken)
    {
        var total = LoadAll();
        foreach (var p in _options.Providers)
        {
            var provider = CreateProvider(p);
            if (provider is not null)
            {
                total += await LoadFromAsync(provider, p.Symbols.Count > 0 ? p.Symbols : _watchlist, cancellationToken);
            }
        }

        return total;
    }

    private IMarketDataProvider? CreateProvider(MarketProviderOptions p)
    {
        var http = _http ?? throw new InvalidOperationException("Market data providers need an HttpClient.");
        switch (p.Type.ToLowerInvariant())
        {
            case "stooq":
                return new StooqProvider(http, new Uri(p.BaseUrl ?? "https://stooq.com/"), p.SymbolSuffix);
            case "alphavantage":
                var key = Environment.GetEnvironmentVariable(p.ApiKeyEnv);
                if (string.IsNullOrWhiteSpace(key))
                {
                    _logger.LogWarning("Alpha Vantage provider skipped: environment variable {Variable} is not set", p.ApiKeyEnv);
                    return null;
                }

                return new AlphaVantageProvider(http, new Uri(p.BaseUrl ?? "https://www.alphavantage.co/"), key);
            default:
                throw new InvalidDataException($"Market:Providers type '{p.Type}' is unknown (use 'stooq' or 'alphavantage').");
        }
    }

    /// <summary>Loads every configured file; a bad file is logged and skipped. Returns bars written.</summary>
    public int LoadAll()
    {
        var total = 0;
        foreach (var file in _options.Files)
        {
            var path = System.IO.Path.GetFullPath(System.IO.Path.Combine(_configDirectory, file.Path));
            try
            {
                var bars = BarQualityChecker.Check(OhlcvCsv.Read(path, file.Source)).Select(b => b with { Sample = file.Sample }).ToList();
                total += _store.UpsertBars(bars);
                _logger.LogInformation("Market data {Path}: {Count} bars, {Flagged} flagged", path, bars.Count, bars.Count(b => b.Flags.Count > 0));
            }
            catch (Exception ex) when (ex is InvalidDataException or IOException)
            {
                _logger.LogWarning("Market data {Path} skipped: {Reason}", path, ex.Message);
            }
        }

        return total;
    }

    /// <summary>Fetches every symbol from a provider, flags bad bars and stores them; a failing symbol is logged and skipped.</summary>
    public async Task<int> LoadFromAsync(IMarketDataProvider provider, IEnumerable<string> symbols, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(provider);
        ArgumentNullException.ThrowIfNull(symbols);
        var total = 0;
        foreach (var symbol in symbols)
        {
            try
            {
                var bars = BarQualityChecker.Check(await provider.GetDailyBarsAsync(symbol, cancellationToken));
                total += _store.UpsertBars(bars);
                var flagged = bars.Count(b => b.Flags.Count > 0);
                if (flagged > 0)
                {
                    _logger.LogWarning("Market data {Provider} {Symbol}: {Flagged} of {Count} bars flagged as suspect", provider.Name, symbol, flagged, bars.Count);
                }
            }
            catch (Exception ex) when (ex is MarketDataException or HttpRequestException or InvalidDataException or System.Text.Json.JsonException)
            {
                _logger.LogWarning("Market data {Provider} {Symbol} skipped: {Reason}", provider.Name, symbol, ex.Message);
            }
        }

        return total;
    }
}
