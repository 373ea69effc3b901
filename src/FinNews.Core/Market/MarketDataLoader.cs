using FinNews.Core.Storage;
using Microsoft.Extensions.Logging;

namespace FinNews.Core.Market;

/// <summary>A configured OHLCV file (section "Market:Files").</summary>
public sealed class MarketFileOptions
{
    /// <summary>CSV path, relative to the config folder.</summary>
    public string Path { get; set; } = "";

    /// <summary>Provider name shown when bars are cited.</summary>
    public string Source { get; set; } = "";
}

/// <summary>Market-data settings (section "Market").</summary>
public sealed class MarketOptions
{
    /// <summary>Generic OHLCV CSV files loaded on each market-data run.</summary>
    public List<MarketFileOptions> Files { get; set; } = [];
}

/// <summary>Loads configured market-data files into the store (upsert: reloading never duplicates).</summary>
public sealed class MarketDataLoader
{
    private readonly SqliteStore _store;
    private readonly MarketOptions _options;
    private readonly string _configDirectory;
    private readonly ILogger<MarketDataLoader> _logger;

    public MarketDataLoader(SqliteStore store, MarketOptions options, string configDirectory, ILogger<MarketDataLoader> logger)
    {
        _store = store;
        _options = options;
        _configDirectory = configDirectory;
        _logger = logger;
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
                var bars = OhlcvCsv.Read(path, file.Source);
                total += _store.UpsertBars(bars);
                _logger.LogInformation("Market data {Path}: {Count} bars", path, bars.Count);
            }
            catch (Exception ex) when (ex is InvalidDataException or IOException)
            {
                _logger.LogWarning("Market data {Path} skipped: {Reason}", path, ex.Message);
            }
        }

        return total;
    }
}
