using System.Net;
using System.Text.Json;
using FinNews.Core;
using FinNews.Core.Storage.Sqlite;
using FinNews.Hosting;
using FinNews.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace FinNews.Tests.Briefing;

/// <summary>
/// "Latest" is the newest covered day, not the last thing written: a back-dated briefing never replaces today's, and
/// a re-run of a day becomes its next version, visibly.
/// </summary>
public class BriefingEditionTests
{
    [Fact]
    public async Task A_back_dated_briefing_does_not_replace_todays_and_a_rerun_versions_it_visibly()
    {
        using var env = TestEnvironment.Create();
        await using var app = AppHost.BuildWeb(env.Paths, env.Clock, "http://127.0.0.1:0", withScheduler: false);
        await app.StartAsync();
        var pipeline = app.Services.GetRequiredService<FinNewsPipeline>();
        var store = app.Services.GetRequiredService<SqliteStore>();
        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
        await pipeline.IngestAsync(null, CancellationToken.None);

        var (today, _) = await pipeline.BriefAsync(null, CancellationToken.None);
        env.Clock.Advance(TimeSpan.FromMinutes(10));
        var (backDated, _) = await pipeline.BriefAsync(new DateTimeOffset(2026, 11, 20, 12, 0, 0, TimeSpan.Zero), CancellationToken.None);

        backDated.Title.Should().Contain("(as of 12:00 UTC)").And.NotBe(today.Title);
        store.LatestBriefing()!.Id.Should().Be(today.Id, "the newest covered day is the briefing of record");
        using (var latest = JsonDocument.Parse(await http.GetStringAsync("/api/v1/briefings/latest")))
        {
            latest.RootElement.GetProperty("id").GetString().Should().Be(today.Id);
        }

        (await http.GetStringAsync("/")).Should().Contain(WebUtility.HtmlEncode(today.Title));
        store.ListBriefings(0, 10).Select(b => b.Title).Should().OnlyHaveUniqueItems().And.HaveCount(2);

        // A re-run of today's edition is its version 2; version 1 stays readable and says it was superseded.
        env.Clock.Advance(TimeSpan.FromHours(2));
        var (rerun, _) = await pipeline.BriefAsync(null, CancellationToken.None);

        store.LatestBriefing()!.Id.Should().Be(rerun.Id);
        var listed = store.ListBriefings(0, 10);
        listed.Select(b => b.Id).Should().Equal(rerun.Id, backDated.Id);
        listed[0].Version.Should().Be(2);
        store.ListBriefings(0, 10, allVersions: true).Single(b => b.Id == today.Id).SupersededBy.Should().Be(rerun.Id);
        var old = await http.GetStringAsync($"/briefings/{today.Id}");
        old.Should().Contain("Superseded").And.Contain($"href=\"/briefings/{rerun.Id}\"");
        (await http.GetStringAsync($"/briefings/{rerun.Id}")).Should().Contain("Version 2 of the 2026-11-21 edition");
    }

    [Fact]
    public void Briefings_stored_before_editions_get_them_when_the_store_opens()
    {
        using var env = TestEnvironment.Create();
        var store = new SqliteStore(env.DatabasePath);
        store.Initialize();
        var first = Some.Briefing("b1", written: new DateTimeOffset(2026, 11, 21, 6, 0, 0, TimeSpan.Zero));
        var second = Some.Briefing("b2", written: new DateTimeOffset(2026, 11, 21, 9, 0, 0, TimeSpan.Zero));
        store.SaveBriefing(first);
        store.SaveBriefing(second);
        using (var c = new Microsoft.Data.Sqlite.SqliteConnection(store.ConnectionString))
        {
            c.Open();
            using var wipe = c.CreateCommand();
            wipe.CommandText = "UPDATE briefings SET as_of = NULL, edition = NULL, version = NULL, superseded_by = NULL";
            wipe.ExecuteNonQuery();
        }

        var reopened = new SqliteStore(env.DatabasePath);
        reopened.Initialize();

        reopened.LatestBriefing()!.Id.Should().Be("b2");
        var all = reopened.ListBriefings(0, 10, allVersions: true);
        all.Select(b => (b.Id, b.Version, b.SupersededBy)).Should().Equal(("b2", 2, null), ("b1", 1, "b2"));
    }
}
