using FinNews.Core.Briefing;
using FinNews.Core.Storage.Sqlite;
using FinNews.SystemTests.Support;
using FinNews.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace FinNews.SystemTests.Web;

/// <summary>The bundled day is clearly marked as sample data wherever a reader meets it, in Chromium.</summary>
public class SampleLabelTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Sample_outlets_carry_a_visible_sample_badge_on_every_page_and_a_real_outlet_does_not()
    {
        using var env = TestEnvironment.Create();
        env.SetSetting("Briefing:PerTicker", 20); // every NVLX story in the watchlist, so the real wire's article is cited too
        await using var app = await SampleDay.StartAsync(env);
        var briefing = app.Services.GetRequiredService<SqliteStore>().LatestBriefing()!;
        briefing.Sources.Should().Contain(s => s.Outlet == SampleDay.RealOutlet, "the test needs a briefing that is partly sample data");
        await using var browser = await Browser.LaunchAsync();
        var page = await browser.NewPageAsync(1280, 900);
        var site = Browser.Address(app);

        // The briefing: a banner saying how much is sample, a badge beside each sample outlet in the sources and previews.
        foreach (var path in new[] { "/", $"/briefings/{briefing.Id}" })
        {
            (await page.GotoAsync(site + path))!.Status.Should().Be(200);
            var banner = page.Locator("article.briefing .sample-banner");
            (await banner.IsVisibleAsync()).Should().BeTrue($"{path} shows the sample banner");
            (await banner.InnerTextAsync()).Should().StartWith("Partly sample data").And.Contain("marked \"sample\"");
            await ExpectBadgesAsync(page, path, "section.sources li");
        }

        var sampleCite = briefing.Sources.First(s => s.Sample && s.Kind == SourceKind.Article).Number;
        var wrap = page.Locator($".cite-wrap:has(a.cite[data-source='{sampleCite}'])").First;
        await wrap.Locator("a.cite").HoverAsync();
        var preview = wrap.Locator(".cite-preview");
        await preview.WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Visible, Timeout = 3000 });
        (await preview.Locator(".sample-badge").IsVisibleAsync()).Should().BeTrue("the citation preview marks a sample outlet");
        output.WriteLine(await Browser.ScreenshotAsync(page, "sample-briefing"));

        await page.GotoAsync(site + "/search?q=Novalux");
        await ExpectBadgesAsync(page, "/search", "ol.results > li");
        (await page.Locator("ol.results > li .outlet").AllInnerTextsAsync()).Should().Contain(SampleDay.RealOutlet);
        output.WriteLine(await Browser.ScreenshotAsync(page, "sample-search"));

        await page.GotoAsync(site + "/ask?q=" + Uri.EscapeDataString("What happened to Novalux?"));
        await ExpectBadgesAsync(page, "/ask", "section.sources li");

        await page.GotoAsync(site + "/feeds");
        await ExpectBadgesAsync(page, "/feeds", "table.feeds tbody tr");
        (await page.Locator("table.feeds tbody tr .outlet").AllInnerTextsAsync()).Should().Contain([SampleDay.RealOutlet, "Meridian Wire"]);

        await page.GotoAsync(site + "/market/NVLX");
        (await page.Locator("main p.meta .sample-badge").IsVisibleAsync()).Should().BeTrue("the market page's bars are sample data");
        (await page.Locator("main .sample-banner").IsVisibleAsync()).Should().BeTrue();
        await ExpectBadgesAsync(page, "/market/NVLX", "section.related li");

        await page.GotoAsync(site + "/markets");
        (await page.Locator("main .sample-badge").First.IsVisibleAsync()).Should().BeTrue("/markets marks the sample bars");
        (await page.Locator("main .sample-banner").InnerTextAsync()).Should().Contain("Sample data");
    }

    /// <summary>Each item of the list has a visible "sample" badge exactly when its outlet is sample data.</summary>
    private static async Task ExpectBadgesAsync(IPage page, string path, string items)
    {
        var list = page.Locator(items);
        var count = await list.CountAsync();
        count.Should().BeGreaterThan(0, $"{path} lists {items}");
        var samples = 0;
        for (var i = 0; i < count; i++)
        {
            var item = list.Nth(i);
            var outlet = (await item.Locator(".outlet").First.InnerTextAsync()).Trim();
            var badges = item.Locator(".sample-badge");
            if (outlet == SampleDay.RealOutlet)
            {
                (await badges.CountAsync()).Should().Be(0, $"{outlet} on {path} is not sample data");
                continue;
            }

            (await badges.CountAsync()).Should().BeGreaterThan(0, $"{outlet} on {path} is a sample outlet");
            (await badges.First.IsVisibleAsync()).Should().BeTrue($"the badge of {outlet} on {path} is visible");
            (await badges.First.InnerTextAsync()).Should().BeEquivalentTo("sample");
            samples++;
        }

        samples.Should().BeGreaterThan(0, $"{path} shows sample outlets");
    }
}
