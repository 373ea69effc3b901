using FinNews.Core;
using FinNews.Core.Briefing;
using FinNews.Core.Storage.Sqlite;
using FinNews.Hosting;
using FinNews.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace FinNews.Tests.Briefing;

public class BriefingTests
{
    [Fact]
    public async Task A_briefing_of_the_samples_cites_stored_sources_in_every_statement()
    {
        using var env = TestEnvironment.Create();
        using var host = AppHost.BuildTool(env.Paths, env.Clock, verbose: false);
        var pipeline = host.Services.GetRequiredService<FinNewsPipeline>();
        var store = host.Services.GetRequiredService<SqliteStore>();
        await pipeline.IngestAsync(null, CancellationToken.None);

        var (briefing, files) = await pipeline.BriefAsync(null, CancellationToken.None);

        briefing.Sections.Select(s => s.Key).Should().Equal("top", "watchlist", "markets");
        var bullets = briefing.Sections.SelectMany(s => s.Bullets).ToList();
        bullets.Should().HaveCountGreaterThan(8);
        bullets.Should().OnlyContain(b => b.Citations.Count > 0);
        foreach (var n in bullets.SelectMany(b => b.Citations))
        {
            var source = briefing.Source(n);
            source.Should().NotBeNull($"citation [{n}] must resolve");
            source!.Outlet.Should().NotBeNullOrWhiteSpace();
            source.Title.Should().NotBeNullOrWhiteSpace();
            source.Url.Should().NotBeNullOrWhiteSpace();
            if (source.Kind == SourceKind.Article)
            {
                var article = store.GetArticle(source.ArticleId!);
                article.Should().NotBeNull($"source [{n}] must be a stored article");
                article!.Url.Should().Be(source.Url);
                article.PublishedAt.Should().Be(source.PublishedAt);
            }
        }

        briefing.Sources.Select(s => s.Number).Should().Equal(Enumerable.Range(1, briefing.Sources.Count));
        files.Should().HaveCount(3).And.OnlyContain(f => File.Exists(f));
        store.LatestBriefing()!.Id.Should().Be(briefing.Id);
    }

    [Fact]
    public async Task A_story_carried_by_several_outlets_appears_once_and_cites_them_all()
    {
        using var env = TestEnvironment.Create();
        env.SetSetting("Briefing:LookbackHours", 36); // the whole sample day, Thursday evening included
        // Feeds read late on the sample day; the briefing written the next morning.
        var clock = new ManualTimeProvider(new DateTimeOffset(2026, 11, 20, 23, 0, 0, TimeSpan.Zero));
        using var host = AppHost.BuildTool(env.Paths, clock, verbose: false);
        var pipeline = host.Services.GetRequiredService<FinNewsPipeline>();
        await pipeline.IngestAsync(null, CancellationToken.None);
        clock.Now = new DateTimeOffset(2026, 11, 21, 6, 0, 0, TimeSpan.Zero);

        var (briefing, _) = await pipeline.BriefAsync(null, CancellationToken.None);

        briefing.Notes.Should().NotContain(n => n.Contains("No articles were published", StringComparison.Ordinal), "the window holds the whole sample day");
        // Novalux's third quarter as five outlets reported it (config/samples/README.md, cluster A).
        string[] results =
        [
            "Novalux Semiconductor beats Q3 estimates, forecasts $7.3 billion revenue",
            "Novalux beats on every line; $NVLX jumps 7% after the bell",
            "$NVLX up 7% late as Novalux tops forecasts and lifts outlook",
            "Morning note: Novalux set to open sharply higher after blowout quarter",
            "Novalux shares surge after data-center sales rise 44%",
        ];
        var bullets = briefing.Sections.SelectMany(s => s.Bullets).ToList();
        var citing = bullets.Where(b => b.Citations.Any(n => results.Contains(briefing.Source(n)!.Title))).ToList();
        citing.Should().HaveCount(1, "one event, one statement");
        citing[0].Citations.Select(n => briefing.Source(n)!.Title).Should().Contain(results);
        citing[0].Citations.Select(n => briefing.Source(n)!.Outlet).Distinct().Should().HaveCountGreaterThanOrEqualTo(5);
        bullets.SelectMany(b => b.Citations).Where(n => briefing.Source(n)!.Kind == SourceKind.Article)
            .Should().OnlyHaveUniqueItems("an article belongs to one story, so it is cited by one statement");
    }

    [Fact]
    public async Task The_markets_section_reports_closes_from_stored_bars()
    {
        using var env = TestEnvironment.Create();
        using var host = AppHost.BuildTool(env.Paths, env.Clock, verbose: false);
        var pipeline = host.Services.GetRequiredService<FinNewsPipeline>();
        await pipeline.IngestAsync(null, CancellationToken.None);
        var store = host.Services.GetRequiredService<SqliteStore>();

        var (briefing, _) = await pipeline.BriefAsync(null, CancellationToken.None);

        var markets = briefing.Sections.Single(s => s.Key == "markets").Bullets;
        var bar = store.GetBars("NVLX", new DateOnly(2026, 11, 20), 2);
        var nvlx = markets.Single(b => b.Headline!.StartsWith("NVLX", StringComparison.Ordinal));
        nvlx.Text.Should().Contain(bar[0].Close.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture));
        briefing.Source(nvlx.Citations[0])!.Kind.Should().Be(SourceKind.MarketData);
        briefing.Source(nvlx.Citations[0])!.Url.Should().Be("/market/NVLX");
    }

    [Fact]
    public async Task With_no_recent_news_the_briefing_covers_the_latest_stored_day_and_says_so()
    {
        using var env = TestEnvironment.Create();
        using var host = AppHost.BuildTool(env.Paths, env.Clock, verbose: false);
        var pipeline = host.Services.GetRequiredService<FinNewsPipeline>();
        await pipeline.IngestAsync(null, CancellationToken.None);

        // The samples are dated 2026-11-20; a briefing as of a week later has nothing new.
        var (briefing, _) = await pipeline.BriefAsync(new DateTimeOffset(2026, 11, 27, 6, 0, 0, TimeSpan.Zero), CancellationToken.None);

        briefing.Notes.Should().ContainSingle(n => n.Contains("No articles were published", StringComparison.Ordinal));
        briefing.WindowEnd.Should().BeBefore(new DateTimeOffset(2026, 11, 21, 0, 0, 0, TimeSpan.Zero));
        briefing.Sections.Should().NotBeEmpty();
    }

    [Fact]
    public async Task An_as_of_briefing_uses_nothing_published_or_first_seen_after_the_instant()
    {
        using var env = TestEnvironment.Create();
        // The service first saw the sample feeds at 12:30 on the sample day.
        var clock = new ManualTimeProvider(new DateTimeOffset(2026, 11, 20, 12, 30, 0, TimeSpan.Zero));
        using var host = AppHost.BuildTool(env.Paths, clock, verbose: false);
        var pipeline = host.Services.GetRequiredService<FinNewsPipeline>();
        await pipeline.IngestAsync(null, CancellationToken.None);
        var store = host.Services.GetRequiredService<SqliteStore>();
        var asOf = new DateTimeOffset(2026, 11, 20, 14, 0, 0, TimeSpan.Zero);
        clock.Now = asOf.AddDays(2);

        var (briefing, _) = await pipeline.BriefAsync(asOf, CancellationToken.None);

        var articleSources = briefing.Sources.Where(s => s.Kind == SourceKind.Article).ToList();
        articleSources.Should().NotBeEmpty();
        articleSources.Should().OnlyContain(s => s.PublishedAt < asOf);
        store.ArticlesInWindow(asOf, asOf.AddDays(1)).Should().NotBeEmpty("later articles exist and were left out");
        briefing.Sources.Where(s => s.Kind == SourceKind.MarketData).Should().OnlyContain(s => s.PublishedAt <= asOf,
            "the 2026-11-20 bar is not final before that day's close");

        // Before the service had seen anything, an as-of briefing has nothing to say.
        var (early, _) = await pipeline.BriefAsync(new DateTimeOffset(2026, 11, 20, 12, 0, 0, TimeSpan.Zero), CancellationToken.None);
        early.Sources.Where(s => s.Kind == SourceKind.Article).Should().BeEmpty();
    }

    [Fact]
    public void Markdown_escapes_feed_text_so_it_cannot_form_links_or_images()
    {
        var b = new BriefingDocument("id", Some.Day, Some.Day.AddDays(-1), Some.Day, "T", "extractive", null, [],
            [new BriefingSection("top", "Top stories", [new BriefingBullet(null, "See ![x](https://evil.example/p.png) and [click](javascript:alert(1))", [1])])],
            [new BriefingSource(1, SourceKind.Article, "a", "Wire", "Title", "javascript:alert(1)", Some.Day)]);

        var md = BriefingRenderer.ToMarkdown(b);

        md.Should().Contain(@"\!\[x\]\(https://evil.example/p.png\)");
        md.Should().NotContain("](javascript:");
        var html = BriefingRenderer.ToHtmlFragment(b);
        html.Should().NotContain("href=\"javascript:");
    }
}
