using FinNews.Core.Access;
using FinNews.Core.Storage.Sqlite;
using FinNews.SystemTests.Support;
using FinNews.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace FinNews.SystemTests.Web;

/// <summary>At a phone's width no page scrolls sideways: wide tables scroll inside their box or stack.</summary>
public class PhoneWidthTests(ITestOutputHelper output)
{
    [Fact]
    public async Task No_page_scrolls_sideways_at_390_px_signed_in_or_not()
    {
        using var env = TestEnvironment.Create();
        env.SetSetting("Auth:Enabled", true);
        await using var app = await SampleDay.StartAsync(env);
        var store = app.Services.GetRequiredService<SqliteStore>();
        // Long unbroken text where a feed's error is shown: it must wrap, not widen the page.
        store.RecordFeedError("broken-wire", "GET https://feeds.example.com/" + new string('x', 160) + " failed", env.Clock.GetUtcNow());
        var briefing = store.LatestBriefing()!;
        var key = app.Services.GetRequiredService<SqliteApiKeyStore>().Create("phone", ApiScopes.Editor, requestsPerMinute: 1000);
        await using var browser = await Browser.LaunchAsync();
        var page = await browser.NewPageAsync(Browser.PhoneWidth, 844);
        var site = Browser.Address(app);
        var wide = new List<string>();

        async Task CheckAsync(string path, string name)
        {
            var response = await page.GotoAsync(site + path);
            response!.Status.Should().Be(200, path);
            var width = await Browser.ScrollWidthAsync(page);
            output.WriteLine($"{path}: scrollWidth {width} -> {await Browser.ScreenshotAsync(page, "phone-" + name)}");
            if (width > Browser.PhoneWidth)
            {
                wide.Add($"{path} is {width} px wide: {string.Join(", ", await Browser.OverflowingAsync(page, Browser.PhoneWidth))}");
            }
        }

        await CheckAsync("/login", "login");
        await page.FillAsync("input[name=key]", key.Key);
        await page.ClickAsync("form[action='/login'] button[type=submit]");
        (await page.Locator("form.account").CountAsync()).Should().Be(1, "signed in, the header names the key");

        await CheckAsync("/", "home");
        await CheckAsync("/briefings", "briefings");
        await CheckAsync($"/briefings/{Uri.EscapeDataString(briefing.Id)}", "briefing");
        await CheckAsync($"/briefings/{Uri.EscapeDataString(briefing.Id)}/edit", "edit");
        await CheckAsync("/search?q=Novalux", "search");
        await CheckAsync("/ask?q=" + Uri.EscapeDataString("What happened to NVLX?"), "ask");
        await CheckAsync("/markets", "markets");
        await CheckAsync("/market/NVLX", "market");
        await CheckAsync("/feeds", "feeds");

        // A citation preview opened near the right edge stays on the screen too.
        await page.GotoAsync(site + "/");
        await page.Locator("section.section:not([data-section='markets']) a.cite").Last.HoverAsync();
        var withPreview = await Browser.ScrollWidthAsync(page);
        if (withPreview > Browser.PhoneWidth)
        {
            wide.Add($"/ with a citation preview open is {withPreview} px wide");
        }

        wide.Should().BeEmpty($"no page may scroll sideways at {Browser.PhoneWidth} px");
    }
}
