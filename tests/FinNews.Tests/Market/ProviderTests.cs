using FinNews.Core.Market;
using FinNews.Core.Storage.Sqlite;
using FinNews.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;

namespace FinNews.Tests.Market;

/// <summary>
/// Providers over real HTTP on loopback. The Alpha Vantage bodies are the recorded API responses in
/// ../shared/corpora/market-data/alphavantage, replayed as served; the Stooq body follows Stooq's documented daily CSV.
/// </summary>
public class ProviderTests
{
    private static readonly string AlphaVantage = Path.GetFullPath(Path.Combine(TestEnvironment.RepoRoot, "..", "shared", "corpora", "market-data", "alphavantage"));

    [Fact]
    public async Task Alpha_vantage_daily_bars_and_quotes_ask_for_the_right_function_and_parse()
    {
        // TIME_SERIES_DAILY in the documented shape (written here: the corpus holds no recorded daily response);
        // GLOBAL_QUOTE is the recorded response. Any other function is refused, as the real API does.
        const string daily = """
            {"Meta Data": {"1. Information": "Daily Prices (open, high, low, close) and Volumes", "2. Symbol": "MSFT"},
             "Time Series (Daily)": {
               "2026-11-20": {"1. open": "101.50", "2. high": "103.00", "3. low": "100.75", "4. close": "102.40", "5. volume": "21000000"},
               "2026-11-19": {"1. open": "100.00", "2. high": "101.90", "3. low": "99.10", "4. close": "101.20", "5. volume": "18500000"}}}
            """;
        var requests = new List<string>();
        await using var server = await Serve(ctx =>
        {
            requests.Add(ctx.Request.QueryString.Value!);
            return ctx.Request.Query["function"].ToString() switch
            {
                "GLOBAL_QUOTE" => Results.Text(File.ReadAllText(Path.Combine(AlphaVantage, "GLOBAL_QUOTE_MSFT.json")), "application/json"),
                "TIME_SERIES_DAILY" => Results.Text(daily, "application/json"),
                var other => Results.Text($$"""{"Error Message": "Invalid API call: function {{other}}"}""", "application/json"),
            };
        });
        using var http = new HttpClient();
        var provider = new AlphaVantageProvider(http, server.Url, "demo-key");

        var quote = await provider.GetQuoteAsync("MSFT", CancellationToken.None);
        var bars = await provider.GetDailyBarsAsync("MSFT", CancellationToken.None);

        quote.Should().BeEquivalentTo(new { Symbol = "MSFT", Date = new DateOnly(2018, 10, 5), Open = 112.63m, High = 113.17m, Low = 110.64m, Close = 112.13m, Volume = 29062853L });
        bars.Select(b => (b.Date, b.Close)).Should().Equal((new DateOnly(2026, 11, 19), 101.20m), (new DateOnly(2026, 11, 20), 102.40m));
        requests.Should().HaveCount(2);
        requests.Should().ContainSingle(q => q.Contains("function=GLOBAL_QUOTE", StringComparison.Ordinal));
        requests.Should().ContainSingle(q => q.Contains("function=TIME_SERIES_DAILY", StringComparison.Ordinal) && q.Contains("symbol=MSFT", StringComparison.Ordinal));
        requests.Should().OnlyContain(q => q.Contains("apikey=demo-key", StringComparison.Ordinal));
    }

    [Fact]
    public void A_recorded_intraday_series_rolls_up_into_one_bar_per_day()
    {
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(AlphaVantage, "TIME_SERIES_INTRADAY_MSFT_1min.json")));

        var bars = AlphaVantageProvider.ParseTimeSeries(doc.RootElement, "msft", "Alpha Vantage");

        bars.Select(b => b.Date).Should().OnlyHaveUniqueItems().And.BeInAscendingOrder();
        var day = bars.Single(b => b.Date == new DateOnly(2017, 12, 18));
        day.Symbol.Should().Be("MSFT");
        day.Close.Should().Be(86.5m, "the last minute of the day closes the rolled-up daily bar");
        day.High.Should().BeGreaterThanOrEqualTo(Math.Max(day.Open, day.Close));
        day.Low.Should().BeLessThanOrEqualTo(Math.Min(day.Open, day.Close));
    }

    [Fact]
    public async Task Alpha_vantage_rate_limit_notes_and_errors_become_clear_errors()
    {
        await using var server = await Serve(_ => Results.Text("""{"Note":"Thank you for using Alpha Vantage! Our standard API call frequency is 5 calls per minute."}""", "application/json"));
        using var http = new HttpClient();
        var provider = new AlphaVantageProvider(http, server.Url, "k");

        var act = () => provider.GetDailyBarsAsync("MSFT", CancellationToken.None);

        (await act.Should().ThrowAsync<MarketDataException>()).Which.Message.Should().Contain("call frequency").And.Contain("MSFT");
    }

    [Fact]
    public async Task Stooq_csv_is_read_and_bad_bars_are_stored_flagged()
    {
        const string csv = "Date,Open,High,Low,Close,Volume\n2026-11-16,100,101,99,100.5,1000\n2026-11-17,100.5,102,100,101,1200\n2026-11-18,1.01,1.02,1.0,1.01,900\n2026-11-19,101,103,100,102,1100\n";
        await using var server = await Serve(ctx => ctx.Request.Query["s"] == "nvlx.us" ? Results.Text(csv, "text/csv") : Results.Text("No data", "text/plain"));
        using var env = TestEnvironment.Create();
        var store = new SqliteStore(env.DatabasePath);
        store.Initialize();
        using var http = new HttpClient();
        var loader = new MarketDataLoader(store, new MarketOptions(), env.ConfigDirectory, NullLogger<MarketDataLoader>.Instance, http);

        var written = await loader.LoadFromAsync(new StooqProvider(http, server.Url), ["NVLX", "NOPE"], CancellationToken.None);
        await loader.LoadFromAsync(new StooqProvider(http, server.Url), ["NVLX"], CancellationToken.None);

        written.Should().Be(4, "the unknown symbol is skipped, not fatal");
        var bars = store.GetBars("NVLX", new DateOnly(2026, 11, 30), 10);
        bars.Should().HaveCount(4, "reloading upserts, never duplicates");
        bars.Single(b => b.Date == new DateOnly(2026, 11, 18)).Flags.Should().Contain(BarQualityChecker.UnitError);
        bars.Where(b => b.Date != new DateOnly(2026, 11, 18)).Should().OnlyContain(b => b.Flags.Count == 0);
    }

    private static async Task<LoopbackServer> Serve(Func<HttpContext, IResult> handler)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.MapGet("/{**path}", handler);
        await app.StartAsync();
        return new LoopbackServer(app);
    }

    private sealed class LoopbackServer(WebApplication app) : IAsyncDisposable
    {
        public Uri Url { get; } = new(app.Urls.First());

        public ValueTask DisposeAsync() => app.DisposeAsync();
    }
}
