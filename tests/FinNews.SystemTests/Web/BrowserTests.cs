using System.Diagnostics;
using FinNews.Core;
using FinNews.Core.Feeds;
using FinNews.Core.Storage.Sqlite;
using FinNews.Hosting;
using FinNews.SystemTests.Support;
using FinNews.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace FinNews.SystemTests.Web;

/// <summary>The real web host in the real browser: Playwright .NET driving Debian's /usr/bin/chromium (never `playwright install`).</summary>
public class BrowserTests(ITestOutputHelper output)
{
    private const string HostileTitle = "<img src=x onerror=alert(1)> Novalux <script>alert(2)</script>";

    [Fact]
    public async Task The_briefing_renders_citations_jump_to_their_source_and_hostile_titles_stay_text()
    {
        var watch = Stopwatch.StartNew();
        using var env = TestEnvironment.Create();
        // The sample day read late that evening, briefed next morning; every NVLX story in the watchlist, so the hostile one is cited.
        env.SetSetting("Briefing:LookbackHours", 36);
        env.SetSetting("Briefing:PerTicker", 20);
        var clock = new ManualTimeProvider(new DateTimeOffset(2026, 11, 20, 23, 0, 0, TimeSpan.Zero));
        await using var app = AppHost.BuildWeb(env.Paths, clock, "http://127.0.0.1:0", withScheduler: false);
        await app.StartAsync();
        await IngestHostileAndBriefAsync(app, clock);
        await using var browser = await LaunchAsync();
        var page = await browser.NewPageAsync();
        var dialogs = new List<string>();
        page.Dialog += (_, dialog) =>
        {
            dialogs.Add(dialog.Message);
            _ = dialog.DismissAsync();
        };

        var response = await page.GotoAsync(Address(app) + "/");

        response!.Status.Should().Be(200);
        (await page.Locator("article.briefing h1").CountAsync()).Should().Be(1);
        (await page.Locator("article.briefing section.section li.bullet").CountAsync()).Should().BeGreaterThan(5);
        var cite = page.Locator("a.cite").First;
        var n = await cite.GetAttributeAsync("data-source");
        (await cite.GetAttributeAsync("href")).Should().Be($"#src-{n}");

        await cite.ClickAsync();

        page.Url.Should().EndWith($"#src-{n}");
        (await page.Locator($"li#src-{n}:target").CountAsync()).Should().Be(1, "the clicked citation targets its source list item");
        (await page.Locator($"li#src-{n}:target").IsVisibleAsync()).Should().BeTrue();
        (await page.Locator($"li#src-{n} .outlet").InnerTextAsync()).Should().NotBeNullOrWhiteSpace();

        // The hostile article is listed as a source, and shows as the literal text its publisher wrote.
        var main = await page.Locator("main").InnerTextAsync();
        main.Should().Contain("<img src=x onerror=alert(1)>");
        (await page.Locator("img[src='x']").CountAsync()).Should().Be(0);
        (await page.Locator("main script").CountAsync()).Should().Be(0);
        await page.WaitForTimeoutAsync(200); // give a (wrongly) injected onerror handler a chance to fire
        dialogs.Should().BeEmpty("no script from a feed may run");

        var shot = Path.Combine(AppContext.BaseDirectory, "screenshots", "briefing.png");
        Directory.CreateDirectory(Path.GetDirectoryName(shot)!);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = shot, FullPage = true });
        new FileInfo(shot).Length.Should().BeGreaterThan(1000);
        output.WriteLine($"screenshot: {shot}; browser test: {watch.ElapsedMilliseconds} ms");
    }

    // The renderer puts a <span class="cite-preview"> right after each a.cite (inside span.cite-wrap)
    // that CSS shows on :hover and :focus-within, holding the source's outlet, title and time.
    [Fact]
    public async Task Hovering_a_citation_shows_a_preview_naming_the_sources_outlet()
    {
        using var env = TestEnvironment.Create();
        await using var app = AppHost.BuildWeb(env.Paths, env.Clock, "http://127.0.0.1:0", withScheduler: false);
        await app.StartAsync();
        var pipeline = app.Services.GetRequiredService<FinNewsPipeline>();
        await pipeline.IngestAsync(null, CancellationToken.None);
        var (briefing, _) = await pipeline.BriefAsync(null, CancellationToken.None);
        await using var browser = await LaunchAsync();
        var page = await browser.NewPageAsync();
        await page.GotoAsync(Address(app) + "/");
        var wrap = page.Locator(".cite-wrap").First;
        var cite = wrap.Locator("a.cite");
        var n = int.Parse((await cite.GetAttributeAsync("data-source"))!, System.Globalization.CultureInfo.InvariantCulture);
        var preview = wrap.Locator(".cite-preview");
        (await preview.IsVisibleAsync()).Should().BeFalse("the preview is hidden until hover or focus");

        await cite.HoverAsync();

        await preview.WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Visible, Timeout = 3000 });
        (await preview.InnerTextAsync()).Should().Contain(briefing.Source(n)!.Outlet);
        var shot = Path.Combine(AppContext.BaseDirectory, "screenshots", "cite-preview.png");
        Directory.CreateDirectory(Path.GetDirectoryName(shot)!);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = shot });
    }

    private static async Task IngestHostileAndBriefAsync(WebApplication app, ManualTimeProvider clock)
    {
        var pipeline = app.Services.GetRequiredService<FinNewsPipeline>();
        await pipeline.IngestAsync(null, CancellationToken.None);
        var store = app.Services.GetRequiredService<SqliteStore>();
        // A title that is itself markup, as an attacker would publish it (the same injection as WebTests).
        store.SyncFeeds([new FeedDefinition("evil", "Evil <b>Outlet</b>", "https://evil.example/rss")]);
        store.CommitFetch("evil", [Some.Article("evil1", "evil", HostileTitle, new DateTimeOffset(2026, 11, 20, 20, 0, 0, TimeSpan.Zero), ["NVLX"],
            "Evil <b>Outlet</b>", "Novalux \"quote\" <iframe src=//x>")], null, null, Some.Day);
        clock.Now = new DateTimeOffset(2026, 11, 21, 6, 0, 0, TimeSpan.Zero);
        var (briefing, _) = await pipeline.BriefAsync(null, CancellationToken.None);
        briefing.Sources.Should().Contain(s => s.Title == HostileTitle, "the test needs the hostile article on the page");
    }

    private static Task<BrowserHandle> LaunchAsync() => Browser.LaunchAsync();

    private static string Address(WebApplication app) => Browser.Address(app);
}
