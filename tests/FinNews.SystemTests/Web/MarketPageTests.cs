using System.Globalization;
using System.Text.Json.Nodes;
using FinNews.Core.Storage.Sqlite;
using FinNews.SystemTests.Support;
using FinNews.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace FinNews.SystemTests.Web;

/// <summary>Pictures where analysts look: the market page, the markets table and the briefing's Markets section, in Chromium.</summary>
public class MarketPageTests(ITestOutputHelper output)
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    [Fact]
    public async Task The_market_page_shows_the_company_a_price_chart_with_dates_and_prices_the_bars_and_related_news_newest_first()
    {
        using var env = TestEnvironment.Create();
        await using var app = await SampleDay.StartAsync(env);
        var store = app.Services.GetRequiredService<SqliteStore>();
        await using var browser = await Browser.LaunchAsync();
        var page = await browser.NewPageAsync(1280, 900);
        var cspErrors = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Text.Contains("Content Security Policy", StringComparison.Ordinal))
            {
                cspErrors.Add(message.Text);
            }
        };

        var response = await page.GotoAsync(Browser.Address(app) + "/market/NVLX");

        response!.Status.Should().Be(200);
        (await page.Locator("main h1").InnerTextAsync()).Should().Contain("Novalux Semiconductor").And.Contain("NVLX");

        // The chart: an inline SVG with a text alternative, dates along the bottom and prices up the side.
        var chart = page.Locator("figure.price-chart svg.chart.wide");
        (await chart.IsVisibleAsync()).Should().BeTrue();
        (await chart.BoundingBoxAsync())!.Width.Should().BeGreaterThan(600, "the chart uses the page's width");
        (await chart.GetAttributeAsync("role")).Should().Be("img");
        (await chart.Locator("title").First.TextContentAsync()).Should().Contain("Novalux Semiconductor (NVLX)");
        (await chart.Locator("desc").TextContentAsync()).Should().Contain("25 sessions from 2026-10-19 to 2026-11-20").And.Contain("148.38");
        var labels = await chart.Locator("text").AllTextContentsAsync();
        labels.Should().Contain("19 Oct 2026").And.Contain("20 Nov", "dates label the time axis");
        var prices = labels.Where(l => decimal.TryParse(l, NumberStyles.Number, C, out _)).Select(l => decimal.Parse(l, C)).ToList();
        prices.Should().HaveCountGreaterThan(2, "prices label the value axis");
        prices.Min().Should().BeLessThanOrEqualTo(118.87m, "the axis reaches the lowest low");
        prices.Max().Should().BeGreaterThanOrEqualTo(150.44m, "the axis reaches the highest high");
        (await chart.Locator("g.range line").CountAsync()).Should().Be(25, "one high-low bar per session");
        (await chart.Locator("polyline.close").GetAttributeAsync("points"))!.Split(' ').Should().HaveCount(25, "one close per session");

        // Data quality, then the bars themselves.
        (await page.Locator("section.quality").InnerTextAsync()).Should().Contain("No flags");
        (await page.Locator("table.bars tbody tr").CountAsync()).Should().Be(25);
        (await page.Locator("table.bars tbody tr").First.InnerTextAsync()).Should().Contain("2026-11-20").And.Contain("148.38");

        // Related news: the stored articles tagged NVLX, newest first, linked, with outlet and time.
        var expected = store.ArticlesInWindow(DateTimeOffset.MinValue.AddYears(1), env.Clock.GetUtcNow())
            .Where(a => a.Tickers.Contains("NVLX")).OrderByDescending(a => a.PublishedAt).ThenBy(a => a.Id, StringComparer.Ordinal).Select(a => a.Title).Take(12).ToList();
        expected.Should().Contain(SampleDay.RealTitle);
        var news = page.Locator("section.related ol.results > li");
        (await news.Locator("a").AllInnerTextsAsync()).Should().Equal(expected);
        var times = (await news.Locator("time").EvaluateAllAsync<string[]>("els => els.map(e => e.getAttribute('datetime'))"))
            .Select(t => DateTimeOffset.Parse(t, C)).ToList();
        times.Should().BeInDescendingOrder();
        (await news.Locator("a[href^='https://']").CountAsync()).Should().Be(expected.Count);
        (await news.Locator(".outlet").AllInnerTextsAsync()).Should().OnlyContain(o => o.Length > 0);

        // Drawn without script or inline style, so the strict CSP holds.
        (await page.Locator("[style]").CountAsync()).Should().Be(0);
        (await page.Locator("script").CountAsync()).Should().Be(0);
        response.Headers["content-security-policy"].Should().Contain("default-src 'none'");
        cspErrors.Should().BeEmpty();
        output.WriteLine(await Browser.ScreenshotAsync(page, "market-desktop"));

        // On a phone the narrow drawing replaces the wide one, and the page does not scroll sideways.
        await page.SetViewportSizeAsync(Browser.PhoneWidth, 844);
        (await chart.IsVisibleAsync()).Should().BeFalse();
        (await page.Locator("figure.price-chart svg.chart.narrow").IsVisibleAsync()).Should().BeTrue();
        (await Browser.ScrollWidthAsync(page)).Should().BeLessThanOrEqualTo(Browser.PhoneWidth);
        output.WriteLine(await Browser.ScreenshotAsync(page, "market-phone"));
    }

    [Fact]
    public async Task Flagged_bars_are_named_with_their_meaning_ringed_on_the_chart_and_marked_in_the_table()
    {
        using var env = TestEnvironment.Create();
        // A second market file (not sample data) with one bad bar: a close above the day's high.
        var csv = Path.Combine(env.ConfigDirectory, "flagged.csv");
        var lines = new List<string> { "symbol,date,open,high,low,close,volume" };
        for (var d = 0; d < 10; d++)
        {
            var date = new DateOnly(2026, 11, 9).AddDays(d);
            lines.Add(string.Create(C, $"ZZT,{date:yyyy-MM-dd},10.00,10.50,9.50,{(d == 7 ? "11.20" : "10.20")},1000"));
        }

        await File.WriteAllLinesAsync(csv, lines);
        env.SetSetting("Market:Files", new JsonArray(
            new JsonObject { ["Path"] = "samples/market/bars.csv", ["Source"] = "FinNews sample market data (fictional)", ["Sample"] = true },
            new JsonObject { ["Path"] = "flagged.csv", ["Source"] = "Test desk" }));
        await using var app = await SampleDay.StartAsync(env, withRealArticle: false);
        await using var browser = await Browser.LaunchAsync();
        var page = await browser.NewPageAsync(1280, 900);

        (await page.GotoAsync(Browser.Address(app) + "/market/ZZT"))!.Status.Should().Be(200);

        (await page.Locator("main .meta").InnerTextAsync()).Should().Contain("Not on the watchlist").And.Contain("Test desk");
        var quality = await page.Locator("section.quality").InnerTextAsync();
        quality.Should().Contain("1 of 10 bars are flagged").And.Contain("2026-11-16").And.Contain("inconsistent-range")
            .And.Contain("open or close outside the day's high-low range");
        (await page.Locator("svg.chart.wide circle.flagged").CountAsync()).Should().Be(1);
        (await page.Locator("table.bars tr.flagged").InnerTextAsync()).Should().Contain("2026-11-16").And.Contain("inconsistent-range");
        (await page.Locator(".sample-badge").CountAsync()).Should().Be(0, "these bars are not sample data");
        output.WriteLine(await Browser.ScreenshotAsync(page, "market-flagged"));
    }

    [Fact]
    public async Task Markets_names_each_company_and_labels_its_trend_column_with_the_sessions_it_draws()
    {
        using var env = TestEnvironment.Create();
        await using var app = await SampleDay.StartAsync(env, withRealArticle: false);
        await using var browser = await Browser.LaunchAsync();
        var page = await browser.NewPageAsync(1280, 900);

        await page.GotoAsync(Browser.Address(app) + "/markets");

        var headers = await page.Locator("table.markets thead th").AllInnerTextsAsync();
        headers.Should().Contain("25 sessions", "the sample holds 25 bars per symbol").And.NotContain("30 sessions");
        (await page.Locator("main").InnerTextAsync()).Should().NotContain("30 sessions");
        (await page.Locator("table.markets svg.spark").EvaluateAllAsync<string[]>("els => els.map(e => e.getAttribute('aria-label'))"))
            .Should().HaveCount(10).And.OnlyContain(l => l.StartsWith("25 closes", StringComparison.Ordinal));
        (await page.Locator("tr[data-symbol='NVLX'] td").First.InnerTextAsync()).Should().Be("Novalux Semiconductor");
        output.WriteLine(await Browser.ScreenshotAsync(page, "markets-desktop"));
    }

    [Fact]
    public async Task The_briefing_markets_section_is_a_compact_table_with_sparklines_each_row_citing_its_bars()
    {
        using var env = TestEnvironment.Create();
        await using var app = await SampleDay.StartAsync(env, withRealArticle: false);
        var store = app.Services.GetRequiredService<SqliteStore>();
        await using var browser = await Browser.LaunchAsync();
        var page = await browser.NewPageAsync(1280, 900);

        await page.GotoAsync(Browser.Address(app) + "/");

        var section = page.Locator("section[data-section='markets']");
        var rows = section.Locator("table.markets tbody tr");
        (await rows.CountAsync()).Should().Be(10, "one row per symbol with bars");
        (await section.Locator("table.markets thead th").AllInnerTextsAsync()).Should()
            .Equal("Symbol", "Name", "Close", "Day", "5 sessions", "Trend", "Flags", "Source");
        for (var i = 0; i < 10; i++)
        {
            var row = rows.Nth(i);
            var symbol = (await row.GetAttributeAsync("data-symbol"))!;
            var bars = store.GetBars(symbol, new DateOnly(2026, 11, 20), 20);
            (await row.Locator("th a").GetAttributeAsync("href")).Should().Be($"/market/{symbol}");
            (await row.Locator("td.num").First.InnerTextAsync()).Should().Contain(bars[0].Close.ToString("0.00", C));
            (await row.Locator("svg.spark").GetAttributeAsync("aria-label")).Should().StartWith("20 closes");
            var cite = row.Locator("a.cite");
            var n = await cite.GetAttributeAsync("data-source");
            (await cite.GetAttributeAsync("href")).Should().Be($"#src-{n}");
            (await page.Locator($"li#src-{n}").GetAttributeAsync("data-kind")).Should().Be("market", $"{symbol}'s figures cite its bars");
            (await page.Locator($"li#src-{n} .title").InnerTextAsync()).Should().Be($"{symbol} daily bars to 2026-11-20");
        }

        // The extractive writer's ten prose lines say what the table shows: folded away, not gone.
        (await section.Locator("details.statements").GetAttributeAsync("open")).Should().BeNull();
        (await section.Locator("li.bullet").CountAsync()).Should().Be(10);
        (await section.Locator("li.bullet").First.IsVisibleAsync()).Should().BeFalse();
        var table = (await section.Locator("table.markets").BoundingBoxAsync())!;
        var main = (await page.Locator("main").BoundingBoxAsync())!;
        table.Width.Should().BeLessThanOrEqualTo(main.Width, "the table fits the column on a desktop");
        output.WriteLine(await Browser.ScreenshotAsync(page, "briefing-desktop"));
    }
}
