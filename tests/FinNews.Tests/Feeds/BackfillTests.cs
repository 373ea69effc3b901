using FinNews.Core;
using FinNews.Core.Briefing;
using FinNews.Core.Feeds;
using FinNews.Core.Storage.Sqlite;
using FinNews.Hosting;
using FinNews.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace FinNews.Tests.Feeds;

/// <summary>
/// History you can brief: an archive imported with <c>ingest --backfill</c> gets the documented first-seen rule
/// (publication + 15 minutes), so an as-of briefing of its own day is possible and says its times are assumed; the same
/// archive polled as a feed is "first seen" when it was read, and an honest back-test of that day finds none of it.
/// </summary>
public class BackfillTests
{
    // An archive written for these tests: a fictional day (2026-11-11) before the bundled sample day.
    private const string Archive = """
        <?xml version="1.0" encoding="utf-8"?>
        <rss version="2.0"><channel><title>Meridian Wire archive</title><link>https://meridian.example/</link>
        <item><guid>arc-1</guid><title>Novalux wins export licence for its new accelerator</title>
          <link>https://meridian.example/arc-1</link><pubDate>Wed, 11 Nov 2026 06:00:00 GMT</pubDate>
          <description>Novalux said the licence covers shipments to three markets from January.</description></item>
        <item><guid>arc-2</guid><title>Kelvane shares fall after a trial pause</title>
          <link>https://meridian.example/arc-2</link><pubDate>Wed, 11 Nov 2026 09:30:00 GMT</pubDate>
          <description>Kelvane paused enrolment in a late-stage trial pending a safety review.</description></item>
        <item><guid>arc-3</guid><title>Ashgrove raises its quarterly dividend</title>
          <link>https://meridian.example/arc-3</link><pubDate>Wed, 11 Nov 2026 17:50:00 GMT</pubDate>
          <description>Ashgrove lifted its dividend by two cents a share.</description></item>
        <item><guid>arc-4</guid><title>Tidereach outlines a refinery sale</title>
          <link>https://meridian.example/arc-4</link><pubDate>Thu, 12 Nov 2026 08:00:00 GMT</pubDate>
          <description>Tidereach plans to sell its coastal refinery.</description></item>
        <item><guid>arc-5</guid><title>Undated market commentary</title>
          <link>https://meridian.example/arc-5</link>
          <description>A column with no publication date.</description></item>
        </channel></rss>
        """;

    private static readonly DateTimeOffset EveningOfArchiveDay = new(2026, 11, 11, 18, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Backfilled_history_can_be_briefed_as_of_its_own_day_and_the_briefing_says_its_times_are_assumed()
    {
        using var env = TestEnvironment.Create();
        using var host = AppHost.BuildTool(env.Paths, env.Clock, verbose: false);
        var pipeline = host.Services.GetRequiredService<FinNewsPipeline>();
        var feed = host.Services.GetRequiredService<FeedCatalog>().Feeds().Single(f => f.Id == "meridian-wire");

        var results = await pipeline.BackfillAsync([feed], System.Text.Encoding.UTF8.GetBytes(Archive), CancellationToken.None);

        var (_, result, error) = results.Single();
        error.Should().BeNull();
        result!.Items.Should().Be(5);
        result.Undated.Should().Be(1, "an item without a date cannot be placed in history and is skipped, not imported as now");
        result.Counts.Inserted.Should().Be(4);

        var store = host.Services.GetRequiredService<SqliteStore>();
        var kelvane = store.GetArticle(ArticleIdFor(store, "Kelvane shares fall after a trial pause"))!;
        kelvane.Backfilled.Should().BeTrue();
        kelvane.FirstSeenAt.Should().Be(new DateTimeOffset(2026, 11, 11, 9, 45, 0, TimeSpan.Zero), "first seen = published + 15 minutes");

        var (briefing, _) = await pipeline.BriefAsync(EveningOfArchiveDay, CancellationToken.None);

        var titles = briefing.Sources.Where(s => s.Kind == SourceKind.Article).Select(s => s.Title).ToList();
        titles.Should().Contain("Novalux wins export licence for its new accelerator").And.Contain("Kelvane shares fall after a trial pause");
        titles.Should().NotContain("Ashgrove raises its quarterly dividend", "published 17:50, taken as seen 18:05: after the as-of instant");
        titles.Should().NotContain("Tidereach outlines a refinery sale", "published the next day");
        briefing.Sources.Where(s => s.Kind == SourceKind.Article).Should().OnlyContain(s => s.Backfilled);
        briefing.Notes.Should().Contain(n => n.Contains("imported from history", StringComparison.Ordinal)
            && n.Contains("15 minutes after its publication", StringComparison.Ordinal));

        var html = BriefingRenderer.ToHtmlFragment(briefing);
        html.Should().Contain(">imported</span>", "each imported source carries a badge");
        BriefingRenderer.ToMarkdown(briefing).Should().Contain("(imported from history)");
    }

    [Fact]
    public async Task The_same_archive_polled_as_a_feed_is_first_seen_when_read_so_a_back_test_of_its_day_finds_none_of_it()
    {
        using var env = TestEnvironment.Create();
        await File.WriteAllTextAsync(Path.Combine(env.ConfigDirectory, "samples", "archive.rss.xml"), Archive);
        env.EditFeeds(feeds => [.. feeds.Where(f => (string?)f!["id"] == "meridian-wire").Select(f =>
        {
            f!["url"] = "samples/archive.rss.xml";
            return f;
        })]);
        using var host = AppHost.BuildTool(env.Paths, env.Clock, verbose: false);
        var pipeline = host.Services.GetRequiredService<FinNewsPipeline>();
        await pipeline.IngestAsync(null, CancellationToken.None);
        var store = host.Services.GetRequiredService<SqliteStore>();
        store.GetArticle(ArticleIdFor(store, "Kelvane shares fall after a trial pause"))!.FirstSeenAt.Should().Be(env.Clock.GetUtcNow());

        // A later backfill of the same items keeps the observed first-seen time: history never rewrites what was seen.
        var feed = host.Services.GetRequiredService<FeedCatalog>().Feeds().Single(f => f.Id == "meridian-wire");
        var (_, result, _) = (await pipeline.BackfillAsync([feed], System.Text.Encoding.UTF8.GetBytes(Archive), CancellationToken.None)).Single();
        result!.Counts.Inserted.Should().Be(0);

        var (briefing, _) = await pipeline.BriefAsync(EveningOfArchiveDay, CancellationToken.None);

        briefing.Sources.Should().NotContain(s => s.Kind == SourceKind.Article, "none of it had been seen by 2026-11-11 18:00");
        briefing.Notes.Should().NotContain(n => n.Contains("imported from history", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_cli_backfills_an_archive_file_stating_the_rule_and_refuses_misused_options()
    {
        using var env = TestEnvironment.Create();
        var archive = Path.Combine(env.Root, "meridian-2026-11-11.xml");
        await File.WriteAllTextAsync(archive, Archive);

        var (code, stdout, stderr) = await FinNewsProcess.RunAsync("ingest", "--backfill", "--file", archive, "--feed", "meridian-wire", "--config", env.ConfigDirectory);

        code.Should().Be(0, stderr);
        stdout.Should().Contain("first seen 15 minutes after its publication").And.Contain("meridian-wire");
        stdout.Should().MatchRegex(@"meridian-wire\s*│\s*5\s*│\s*4\s*│\s*0\s*│\s*1\s*│\s*ok");

        (await FinNewsProcess.RunAsync("ingest", "--file", archive, "--config", env.ConfigDirectory)).Code.Should().Be(2, "--file goes with --backfill");
        var noFeed = await FinNewsProcess.RunAsync("ingest", "--backfill", "--file", archive, "--config", env.ConfigDirectory);
        noFeed.Code.Should().Be(2);
        noFeed.Err.Should().Contain("--file needs --feed");
        var unknown = await FinNewsProcess.RunAsync("ingest", "--backfill", "--feed", "nope", "--config", env.ConfigDirectory);
        unknown.Code.Should().Be(2);
        unknown.Err.Should().Contain("No feed 'nope'");
    }

    private static string ArticleIdFor(SqliteStore store, string title) =>
        store.ArticlesInWindow(DateTimeOffset.UnixEpoch, new DateTimeOffset(2100, 1, 1, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2100, 1, 1, 0, 0, 0, TimeSpan.Zero)).Single(a => a.Title == title).Id;
}
