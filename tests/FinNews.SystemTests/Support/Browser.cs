using FinNews.Core;
using FinNews.Core.Feeds;
using FinNews.Core.Storage.Sqlite;
using FinNews.Hosting;
using FinNews.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace FinNews.SystemTests.Support;

/// <summary>Playwright .NET driving Debian's /usr/bin/chromium (never `playwright install`).</summary>
internal static class Browser
{
    public const string Chromium = "/usr/bin/chromium";

    /// <summary>A phone's viewport width in CSS pixels (an iPhone 12-15).</summary>
    public const int PhoneWidth = 390;

    public static async Task<BrowserHandle> LaunchAsync()
    {
        var installError = RealComponents.EnsureInstalled();
        File.Exists(Chromium).Should().BeTrue($"{Chromium} is required (apt-get install -y chromium fonts-dejavu-core; never `playwright install`) {installError}");
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
        return new BrowserHandle(playwright, browser);
    }

    /// <summary>The address the web host listens on.</summary>
    public static string Address(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

    /// <summary>A full-page screenshot under the test output's screenshots/ folder; returns its path.</summary>
    public static async Task<string> ScreenshotAsync(IPage page, string name)
    {
        var shot = Path.Combine(AppContext.BaseDirectory, "screenshots", name + ".png");
        Directory.CreateDirectory(Path.GetDirectoryName(shot)!);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = shot, FullPage = true });
        return shot;
    }

    /// <summary>How far the page scrolls sideways: document.scrollingElement.scrollWidth, in CSS pixels.</summary>
    public static Task<int> ScrollWidthAsync(IPage page) => page.EvaluateAsync<int>("() => document.scrollingElement.scrollWidth");

    /// <summary>The elements reaching past the right edge of the viewport (for a failure message).</summary>
    public static Task<string[]> OverflowingAsync(IPage page, int width) => page.EvaluateAsync<string[]>("""
        width => [...document.querySelectorAll('body *')]
          .filter(e => e.getBoundingClientRect().right > width + 0.5)
          .slice(0, 6)
          .map(e => `${e.tagName.toLowerCase()}${e.className ? '.' + String(e.className).replaceAll(' ', '.') : ''} right=${Math.round(e.getBoundingClientRect().right)}`)
        """, width);
}

internal sealed class BrowserHandle(IPlaywright playwright, IBrowser browser) : IAsyncDisposable
{
    public Task<IPage> NewPageAsync() => browser.NewPageAsync();

    /// <summary>A page with a viewport of the given size (CSS pixels).</summary>
    public Task<IPage> NewPageAsync(int width, int height) =>
        browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = width, Height = height } });

    public async ValueTask DisposeAsync()
    {
        await browser.CloseAsync();
        playwright.Dispose();
    }
}

/// <summary>
/// The bundled sample day in a started web host, plus one article from a feed that is not sample data ("Real Wire",
/// added by hand and disabled so no ingest fetches it), briefed the next morning (the environment's clock).
/// </summary>
internal static class SampleDay
{
    public const string RealOutlet = "Real Wire";
    public const string RealTitle = "Novalux supplier talks reported by a wire that is not sample data";

    public static async Task<WebApplication> StartAsync(TestEnvironment env, bool withRealArticle = true)
    {
        var app = AppHost.BuildWeb(env.Paths, env.Clock, "http://127.0.0.1:0", withScheduler: false);
        await app.StartAsync();
        var store = app.Services.GetRequiredService<SqliteStore>();
        if (withRealArticle)
        {
            store.TryAddFeed(new FeedDefinition("real-wire", RealOutlet, "https://real-wire.example/rss", Enabled: false), env.Clock.GetUtcNow()).Should().BeTrue();
            store.CommitFetch("real-wire", [Some.Article("real1", "real-wire", RealTitle, new DateTimeOffset(2026, 11, 20, 20, 30, 0, TimeSpan.Zero), ["NVLX"],
                RealOutlet, "Novalux Semiconductor is said to be in talks with a new wafer supplier, people familiar with the matter said.")],
                null, null, env.Clock.GetUtcNow());
        }

        var pipeline = app.Services.GetRequiredService<FinNewsPipeline>();
        await pipeline.IngestAsync(null, CancellationToken.None);
        await pipeline.BriefAsync(null, CancellationToken.None);
        return app;
    }
}
