using System.Data.Common;
using FinNews.Core.Access;
using FinNews.Core.Briefing;
using FinNews.Core.Delivery;
using FinNews.Core.Feeds;
using FinNews.Core.Market;
using FinNews.Core.Search;
using FinNews.Core.Storage.Postgres;
using FinNews.Core.Storage.Sqlite;
using FinNews.Tests.Support;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace FinNews.Tests.Storage;

/// <summary>Every storage interface of one backend, on a fresh, migrated database.</summary>
public sealed record StoreSet(IFeedStore Feeds, IArticleStore Articles, IMarketStore Market, IBriefingStore Briefings,
    IDeliveryStore Delivery, IApiKeyStore Keys, Func<int> Reinitialize);

/// <summary>
/// The behaviours users rely on, for every storage backend: each concrete subclass runs all of them on its own backend
/// (<see cref="SqliteStorageContractTests"/>, <see cref="PostgresStorageContractTests"/>).
/// </summary>
public abstract class StorageContractTests
{
    protected static readonly DateTimeOffset T0 = new(2026, 11, 20, 9, 0, 0, TimeSpan.Zero);

    protected FakeTimeProvider Clock { get; } = new(T0);

    /// <summary>A fresh store set with an empty, fully migrated schema.</summary>
    protected abstract StoreSet Create();

    private static Article At(string id, DateTimeOffset published, DateTimeOffset? seen = null, string feed = "wire", IReadOnlyList<string>? tickers = null) =>
        Some.Article(id, feed, published: published, tickers: tickers) with { FirstSeenAt = seen ?? published };

    // ---- ingest ----

    [StorageFact]
    public void A_fetch_stores_new_items_once_and_counts_repeats_as_duplicates()
    {
        var s = Create();
        s.Feeds.SyncFeeds([new FeedDefinition("wire", "Wire", "https://wire.example/rss")]);

        var first = s.Feeds.CommitFetch("wire", [At("a1", T0), At("a2", T0)], "\"e1\"", "Fri, 20 Nov 2026 09:00:00 GMT", T0);
        var again = s.Feeds.CommitFetch("wire", [At("a1", T0), At("a2", T0)], "\"e2\"", null, T0.AddMinutes(30));
        var sameUrl = s.Feeds.CommitFetch("wire", [At("other-id", T0) with { Url = "https://wire.example/a1", ContentHash = "fresh" }], null, null, T0.AddHours(1));
        var sameText = s.Feeds.CommitFetch("wire", [At("third-id", T0) with { ContentHash = "hash-a2" }], null, null, T0.AddHours(1));

        first.Should().Be(new IngestCounts(2, 0, 0));
        again.Should().Be(new IngestCounts(0, 0, 2));
        sameUrl.Should().Be(new IngestCounts(0, 0, 1), "the same URL under another id is the same article");
        sameText.Should().Be(new IngestCounts(0, 0, 1), "the same content under another id is the same article");
        s.Articles.CountArticles().Should().Be(2);
        var state = s.Feeds.GetFeedState("wire")!;
        state.ItemsTotal.Should().Be(2);
        state.LastSuccessAt.Should().Be(T0.AddHours(1));
    }

    [StorageFact]
    public void An_edited_item_replaces_its_text_keeps_its_identity_and_first_seen_time_and_is_indexed_again()
    {
        var s = Create();
        s.Feeds.SyncFeeds([new FeedDefinition("wire", "Wire", "https://wire.example/rss")]);
        s.Feeds.CommitFetch("wire", [At("a1", T0, tickers: ["NVLX"])], null, null, T0);
        s.Articles.MarkIndexed(["a1"]);

        var edited = At("a1", T0, seen: T0.AddHours(5), tickers: ["NVLX", "KPRA"]) with { Title = "Corrected headline", ContentHash = "hash-v2" };
        var counts = s.Feeds.CommitFetch("wire", [edited], null, null, T0.AddHours(5));

        counts.Should().Be(new IngestCounts(0, 1, 0));
        var stored = s.Articles.GetArticle("a1")!;
        stored.Title.Should().Be("Corrected headline");
        stored.Tickers.Should().Equal("NVLX", "KPRA");
        stored.FirstSeenAt.Should().Be(T0, "an edit is not a new sighting");
        s.Articles.UnindexedArticles(10).Select(a => a.Id).Should().Equal("a1");
    }

    [StorageFact]
    public void A_failed_fetch_stores_none_of_its_items_and_leaves_the_feed_state_as_it_was()
    {
        var s = Create();
        s.Feeds.SyncFeeds([new FeedDefinition("f", "F", "https://f.example/rss")]);

        var act = () => s.Feeds.CommitFetch("f", [At("a1", T0, feed: "f"), At("a2", T0, feed: "f") with { Title = null! }], "\"etag-1\"", null, T0);

        act.Should().Throw<DbException>();
        s.Articles.CountArticles().Should().Be(0);
        s.Feeds.GetFeedState("f")!.ETag.Should().BeNull("the feed must not be marked fresh without its items");
    }

    [StorageFact]
    public void Imported_articles_follow_the_same_rules_and_leave_the_feed_state_alone()
    {
        var s = Create();
        s.Feeds.SyncFeeds([new FeedDefinition("wire", "Wire", "https://wire.example/rss")]);
        s.Feeds.CommitFetch("wire", [At("live", T0)], "\"e1\"", null, T0);

        var counts = s.Articles.ImportArticles([At("old", T0.AddDays(-3)) with { Backfilled = true }, At("live", T0)]);

        counts.Should().Be(new IngestCounts(1, 0, 1));
        s.Articles.GetArticle("old")!.Backfilled.Should().BeTrue();
        s.Feeds.GetFeedState("wire")!.ETag.Should().Be("\"e1\"");
        s.Feeds.GetFeedState("wire")!.ItemsTotal.Should().Be(1);
    }

    // ---- reading by time ----

    [StorageFact]
    public void A_point_in_time_window_never_returns_what_was_first_seen_later()
    {
        var s = Create();
        s.Articles.ImportArticles([
            At("early", T0.AddHours(-3), tickers: ["NVLX"]),
            At("late-seen", T0.AddHours(-2), seen: T0.AddHours(4), tickers: ["NVLX"]),
            At("outside", T0.AddDays(-2)),
            At("after", T0.AddHours(1), tickers: ["NVLX"]),
        ]);

        s.Articles.ArticlesInWindow(T0.AddDays(-1), T0).Select(a => a.Id).Should().Equal("early");
        s.Articles.ArticlesInWindow(T0.AddDays(-1), T0, knownBefore: T0.AddHours(5)).Select(a => a.Id).Should().Equal("late-seen", "early");
        s.Articles.ArticlesTagged("NVLX", T0).Select(a => a.Id).Should().Equal("early");
        s.Articles.ArticlesTagged("NVLX", T0.AddHours(5)).Select(a => a.Id).Should().Equal("after", "late-seen", "early");
        s.Articles.ArticlesTagged("NVL", T0.AddHours(5)).Should().BeEmpty("a tag matches whole symbols only");
        s.Articles.LatestPublished(T0).Should().Be(T0.AddHours(-3));
        s.Articles.LatestPublished(DateTimeOffset.MaxValue).Should().Be(T0.AddHours(1));
        s.Articles.ArticleCountsByFeed(T0.AddDays(-1)).Should().BeEquivalentTo(new Dictionary<string, long> { ["wire"] = 3 });
    }

    [StorageFact]
    public void Articles_page_in_first_seen_order_and_the_index_mark_round_trips()
    {
        var s = Create();
        s.Articles.ImportArticles([At("b", T0), At("a", T0), At("c", T0.AddMinutes(1))]);

        var page1 = s.Articles.ArticleKeysAfter(DateTimeOffset.FromUnixTimeMilliseconds(0), "", 2);
        var page2 = s.Articles.ArticleKeysAfter(page1[^1].FirstSeenAt, page1[^1].Id, 2);
        s.Articles.MarkIndexed(["a", "b"]);
        var unindexed = s.Articles.UnindexedArticles(10).Select(a => a.Id).ToList();
        s.Articles.MarkAllUnindexed();

        page1.Select(k => k.Id).Should().Equal("a", "b");
        page2.Select(k => k.Id).Should().Equal("c");
        unindexed.Should().Equal("c");
        s.Articles.UnindexedArticles(10).Select(a => a.Id).Should().Equal("a", "b", "c");
        s.Articles.GetArticles(["a", "c", "missing"]).Select(a => a.Id).Should().BeEquivalentTo("a", "c");
    }

    // ---- stories and retention ----

    [StorageFact]
    public void Stories_group_their_articles_and_deleting_articles_takes_their_story_links_with_them()
    {
        var s = Create();
        s.Articles.ImportArticles([
            At("x1", T0.AddHours(-2)) with { Outlet = "Wire" },
            At("x2", T0.AddHours(-1), feed: "desk") with { Outlet = "Desk" },
            At("y1", T0.AddHours(-1)),
            At("old", T0.AddDays(-400)),
        ]);
        s.Articles.AssignClusters([("x1", "story-x"), ("x2", "story-x"), ("y1", "story-y"), ("old", "story-x")]);

        var stories = s.Articles.ListStories(T0.AddDays(-1));
        stories.Select(st => st.ClusterId).Should().Equal("story-x", "story-y");
        stories[0].Outlets.Should().BeEquivalentTo("Wire", "Desk");
        s.Articles.ClusterIds(["x1", "y1", "none"]).Should().BeEquivalentTo(new Dictionary<string, string> { ["x1"] = "story-x", ["y1"] = "story-y" });

        var expired = s.Articles.ArticleIdsPublishedBefore(T0.AddDays(-365));
        s.Articles.DeleteArticles(expired).Should().Be(1);

        expired.Should().Equal("old");
        s.Articles.StoryArticles("story-x").Select(a => a.Id).Should().Equal("x1", "x2");
        s.Articles.GetArticle("old").Should().BeNull();
        s.Articles.CountArticles().Should().Be(3);
    }

    [StorageFact]
    public async Task Retention_removes_old_articles_from_the_index_the_store_and_their_stories_and_keeps_everything_newer()
    {
        var s = Create();
        var cutoff = T0.AddDays(-365);
        var old = Enumerable.Range(0, 12).Select(i => At($"old{i}", cutoff.AddDays(-1 - i)) with { Title = $"Zephyrite quarry report {i}" }).ToList();
        var kept = Enumerable.Range(0, 9).Select(i => At($"kept{i}", cutoff.AddHours(i)) with { Title = $"Zephyrite quarry update {i}" }).ToList();
        s.Articles.ImportArticles([.. old, .. kept]);
        s.Articles.AssignClusters([("old0", "story"), ("kept0", "story"), ("old1", "gone")]);
        var folder = Path.Combine(Path.GetTempPath(), "finnews-tests", "retention-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(folder);
        using var index = new SqliteSearchIndex(new SqliteConnectionStringBuilder { DataSource = Path.Combine(folder, "search.db"), Pooling = false }.ToString(),
            new HashingEmbedder(), HashingEmbedder.ProviderName);
        await index.InitializeAsync();
        (await new SearchIndexer(s.Articles, index, NullLogger<SearchIndexer>.Instance).DrainAsync()).Should().Be(21);

        var report = await new RetentionPass(s.Articles, index, NullLogger<RetentionPass>.Instance).RunAsync(cutoff, batchSize: 5);

        report.Articles.Should().Be(12);
        var hits = await index.SearchAsync(new SearchQuery("Zephyrite quarry", SearchMode.Lexical, Limit: 100));
        hits.Select(h => h.ArticleId).Should().BeEquivalentTo(kept.Select(a => a.Id), "nothing the store dropped is still searchable, nothing kept is lost");
        s.Articles.GetArticles([.. old.Select(a => a.Id), .. kept.Select(a => a.Id)]).Select(a => a.Id).Should().BeEquivalentTo(kept.Select(a => a.Id));
        s.Articles.StoryArticles("story").Select(a => a.Id).Should().Equal("kept0");
        s.Articles.StoryArticles("gone").Should().BeEmpty();
        s.Articles.ListStories(DateTimeOffset.MinValue).Select(st => st.ClusterId).Should().Equal("story");
        (await new RetentionPass(s.Articles, index, NullLogger<RetentionPass>.Instance).RunAsync(cutoff)).Articles.Should().Be(0, "a second pass finds nothing left");
    }

    // ---- feeds ----

    [StorageFact]
    public void The_feed_list_keeps_config_feeds_in_declared_order_then_added_feeds_and_refuses_a_second_add()
    {
        var s = Create();
        s.Feeds.SeedFeeds([new FeedDefinition("z-config", "Z", "https://z.example/rss"), new FeedDefinition("a-config", "A", "https://a.example/rss", Sample: true)]);

        s.Feeds.TryAddFeed(new FeedDefinition("added", "Added", "https://added.example/rss", IntervalMinutes: 15, FullText: true), T0).Should().BeTrue();
        s.Feeds.TryAddFeed(new FeedDefinition("added", "Again", "https://again.example/rss"), T0.AddMinutes(1)).Should().BeFalse();
        s.Feeds.TryAddFeed(new FeedDefinition("a-config", "Clash", "https://clash.example/rss"), T0).Should().BeFalse();

        s.Feeds.ListFeeds().Select(f => f.Definition.Id).Should().Equal("z-config", "a-config", "added");
        var added = s.Feeds.GetFeed("added")!;
        added.Origin.Should().Be(FeedOrigin.Added);
        added.AddedAt.Should().Be(T0);
        added.Definition.Should().Be(new FeedDefinition("added", "Added", "https://added.example/rss", IntervalMinutes: 15, FullText: true));
        s.Feeds.GetFeed("a-config")!.Definition.Sample.Should().BeTrue();

        s.Feeds.RemoveAddedFeed("a-config").Should().Be(FeedRemoval.DeclaredInConfig);
        s.Feeds.RemoveAddedFeed("nope").Should().Be(FeedRemoval.NotFound);
        s.Feeds.RemoveAddedFeed("added").Should().Be(FeedRemoval.Removed);
        s.Feeds.SeedFeeds([new FeedDefinition("a-config", "A", "https://a.example/rss")]);
        s.Feeds.ListFeeds().Select(f => f.Definition.Id).Should().Equal("a-config");
    }

    [StorageFact]
    public void Feed_state_records_failures_pauses_resumes_and_a_not_modified_with_its_redirect()
    {
        var s = Create();
        s.Feeds.SeedFeeds([new FeedDefinition("wire", "Wire", "https://wire.example/rss")]);

        s.Feeds.RecordFeedFailure("wire", "HTTP 503", T0, new FeedFailurePlan(1, T0, T0.AddMinutes(5), T0.AddMinutes(10), null));
        var failing = s.Feeds.GetFeedState("wire")!;
        s.Feeds.RecordFeedFailure("wire", "HTTP 503", T0.AddDays(8), new FeedFailurePlan(9, T0, T0.AddDays(9), null, "failing for 8 days"));
        var paused = s.Feeds.GetFeedState("wire")!;
        s.Feeds.ResumeFeed("wire").Should().BeTrue();
        var resumed = s.Feeds.GetFeedState("wire")!;
        s.Feeds.RecordNotModified("wire", T0.AddDays(9), T0.AddDays(9).AddMinutes(30), "https://moved.example/rss");
        var fresh = s.Feeds.GetFeedState("wire")!;

        failing.Should().Match<FeedState>(f => f.ErrorCount == 1 && f.LastError == "HTTP 503" && f.NextPollAt == T0.AddMinutes(5)
            && f.RetryAfterUntil == T0.AddMinutes(10) && !f.Paused);
        paused.Paused.Should().BeTrue();
        paused.PausedReason.Should().Be("failing for 8 days");
        resumed.Should().Match<FeedState>(f => !f.Paused && f.ErrorCount == 0 && f.FirstFailureAt == null && f.NextPollAt == null);
        fresh.Should().Match<FeedState>(f => f.LastSuccessAt == T0.AddDays(9) && f.LastError == null && f.FetchUrl == "https://moved.example/rss");
        s.Feeds.PauseFeed("wire", "by hand").Should().BeTrue();
        s.Feeds.GetFeedState("wire")!.PausedReason.Should().Be("by hand");
        s.Feeds.PauseFeed("unknown", "x").Should().BeFalse();
        s.Feeds.ListFeedStates().Select(f => f.Id).Should().Equal("wire");
    }

    // ---- market bars ----

    [StorageFact]
    public void Bars_upsert_one_row_per_symbol_and_day_and_read_back_newest_first()
    {
        var s = Create();
        var day = new DateOnly(2026, 11, 19);
        DailyBar Bar(DateOnly d, decimal close, string source = "file") => new("NVLX", d, 100.25m, 102.5m, 99.75m, close, 1_250_000, source, [], Sample: true);

        s.Market.UpsertBars([Bar(day.AddDays(-1), 100.5m), Bar(day, 101.5m)]);
        s.Market.UpsertBars([Bar(day, 101.75m, "reload") with { Flags = ["gap"] }]);
        s.Market.UpsertBars([new DailyBar("KPRA", day, 10m, 11m, 9m, 10.5m, 5, "file", [])]);

        var bars = s.Market.GetBars("NVLX", DateOnly.MaxValue);
        bars.Select(b => (b.Date, b.Close, b.Source)).Should().Equal((day, 101.75m, "reload"), (day.AddDays(-1), 100.5m, "file"));
        bars[0].Flags.Should().Equal("gap");
        bars[0].Sample.Should().BeTrue();
        bars[0].Should().Match<DailyBar>(b => b.Open == 100.25m && b.High == 102.5m && b.Low == 99.75m && b.Volume == 1_250_000);
        s.Market.GetBars("NVLX", day.AddDays(-1)).Select(b => b.Date).Should().Equal(day.AddDays(-1));
        s.Market.GetBars("NVLX", DateOnly.MaxValue, limit: 1).Should().HaveCount(1);
        s.Market.BarSymbols().Should().Equal("KPRA", "NVLX");
    }

    // ---- briefings ----

    [StorageFact]
    public void A_rerun_of_an_edition_is_its_next_version_and_a_back_dated_briefing_does_not_replace_the_latest()
    {
        var s = Create();
        var today = Some.Briefing("today", written: new DateTimeOffset(2026, 11, 21, 6, 0, 0, TimeSpan.Zero));
        var backDated = Some.Briefing("back", written: new DateTimeOffset(2026, 11, 20, 12, 0, 0, TimeSpan.Zero));
        var rerun = Some.Briefing("rerun", written: new DateTimeOffset(2026, 11, 21, 9, 0, 0, TimeSpan.Zero));

        s.Briefings.SaveBriefing(today);
        s.Briefings.SaveBriefing(backDated);
        s.Briefings.LatestBriefing()!.Id.Should().Be("today");
        s.Briefings.SaveBriefing(rerun);
        s.Briefings.SaveBriefing(rerun with { Title = "Refreshed" });

        s.Briefings.LatestBriefing()!.Title.Should().Be("Refreshed");
        s.Briefings.ListBriefings(0, 10).Select(b => (b.Id, b.Version)).Should().Equal(("rerun", 2), ("back", 1));
        s.Briefings.ListBriefings(0, 10, allVersions: true).Select(b => (b.Id, b.SupersededBy)).Should().Equal(("rerun", null), ("today", "rerun"), ("back", null));
        s.Briefings.BriefingVersions(new DateOnly(2026, 11, 21)).Select(b => b.Id).Should().Equal("rerun", "today");
        s.Briefings.CountBriefings().Should().Be(2);
        s.Briefings.CountBriefings(allVersions: true).Should().Be(3);
        s.Briefings.ListBriefings(1, 1).Select(b => b.Id).Should().Equal("back");
        s.Briefings.GetBriefing("today")!.Sections.Should().HaveCount(1);
        s.Briefings.GetBriefing("missing").Should().BeNull();
    }

    [StorageFact]
    public void An_approval_is_recorded_and_an_edit_clears_it()
    {
        var s = Create();
        var briefing = Some.Briefing("b1");
        s.Briefings.SaveBriefing(briefing);

        s.Briefings.ApproveBriefing("b1", "analyst-7", T0).Should().BeTrue();
        s.Briefings.ApproveBriefing("missing", "analyst-7", T0).Should().BeFalse();
        s.Briefings.Approval("b1").Should().Be((T0, "analyst-7"));

        s.Briefings.SaveEditedBriefing(briefing with { Title = "Edited by an analyst" });

        s.Briefings.GetBriefing("b1")!.Title.Should().Be("Edited by an analyst");
        s.Briefings.Approval("b1").Should().BeNull("an edit needs approving again");
    }

    // ---- delivery ----

    [StorageFact]
    public void A_subscriber_is_stored_once_per_address_in_any_case_and_a_delivery_is_claimed_once()
    {
        var s = Create();
        var ann = s.Delivery.AddSubscriber(new NewSubscriber("ann@example.com", "Europe/Paris", "daily 07:00", ["top"], ["NVLX"]));
        var again = s.Delivery.AddSubscriber(new NewSubscriber("ANN@example.com", "UTC", "daily 08:00"));
        var bad = () => s.Delivery.AddSubscriber(new NewSubscriber("not-an-email", "UTC", "daily 07:00"));

        again.Id.Should().Be(ann.Id);
        again.UnsubscribeToken.Should().Be(ann.UnsubscribeToken);
        again.Schedule.Should().Be("daily 08:00");
        bad.Should().Throw<SubscriberValidationException>().Which.Message.Should().Contain("email = 'not-an-email'");
        s.Delivery.ListSubscribers().Should().ContainSingle();

        s.Delivery.TryClaim(ann.Id, "b1").Should().BeTrue();
        s.Delivery.TryClaim(ann.Id, "b1").Should().BeFalse("a briefing is sent to a subscriber once");
        s.Delivery.RecordAttemptFailed(ann.Id, "b1", "421 try later");
        s.Delivery.MarkSent(ann.Id, "b1");
        s.Delivery.TryClaim(ann.Id, "b2").Should().BeTrue();
        s.Delivery.MarkFailed(ann.Id, "b2");
        s.Delivery.TryClaim(ann.Id, "b3").Should().BeTrue();
        Clock.Advance(TimeSpan.FromHours(2));

        var sent = s.Delivery.GetSendLog(ann.Id, "b1")!;
        sent.Status.Should().Be(SendStatus.Sent);
        sent.Attempts.Should().Be(2);
        sent.SentAt.Should().Be(T0);
        s.Delivery.ListProblems(TimeSpan.FromHours(1)).Select(p => (p.BriefingId, p.Status)).Should().BeEquivalentTo(new[] { ("b2", SendStatus.Failed), ("b3", SendStatus.Sending) });
        s.Delivery.ListSendLog("b1").Should().ContainSingle().Which.Email.Should().Be("ann@example.com");
        s.Delivery.ListSendLog().Should().HaveCount(3);

        s.Delivery.Unsubscribe(ann.UnsubscribeToken).Should().BeTrue();
        s.Delivery.Unsubscribe(ann.UnsubscribeToken).Should().BeTrue("unsubscribing twice is fine");
        s.Delivery.Unsubscribe("no-such-token").Should().BeFalse();
        s.Delivery.ListSubscribers().Should().BeEmpty();
        s.Delivery.ListSubscribers(includeInactive: true).Should().ContainSingle();
    }

    // ---- keys ----

    [StorageFact]
    public void A_key_authenticates_until_revoked_and_only_its_hash_is_kept()
    {
        var s = Create();
        var created = s.Keys.Create("reporting", ApiScopes.Editor, 60);
        var other = s.Keys.Create("second", ApiScopes.Reader);
        var bad = () => s.Keys.Create("", ApiScopes.Reader);

        created.Key.Should().StartWith(ApiKeyRules.KeyPrefix);
        bad.Should().Throw<ApiKeyValidationException>().Which.Message.Should().Contain("name");
        var seen = s.Keys.Authenticate(created.Key)!;
        seen.Should().Match<ApiKey>(k => k.Name == "reporting" && k.Scope == ApiScopes.Editor && k.RequestsPerMinute == 60 && k.LastUsedAt == T0);
        s.Keys.Authenticate(created.Key + "x").Should().BeNull();
        s.Keys.FindActive(created.Record.Id).Should().NotBeNull();

        s.Keys.Revoke(created.Record.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)).Should().BeTrue();
        s.Keys.Revoke("fn_nokey").Should().BeFalse();

        s.Keys.Authenticate(created.Key).Should().BeNull();
        s.Keys.FindActive(created.Record.Id).Should().BeNull();
        s.Keys.List().Select(k => (k.Name, k.IsRevoked)).Should().Equal(("reporting", true), ("second", false));
        other.Record.Id.Should().BeGreaterThan(created.Record.Id);
    }

    // ---- schema ----

    [StorageFact]
    public void Opening_a_migrated_store_again_changes_nothing_and_keeps_every_row()
    {
        var s = Create();
        s.Articles.ImportArticles([At("a1", T0)]);
        s.Briefings.SaveBriefing(Some.Briefing("b1"));

        var version = s.Reinitialize();

        version.Should().BeGreaterThanOrEqualTo(1);
        s.Reinitialize().Should().Be(version);
        s.Articles.CountArticles().Should().Be(1);
        s.Briefings.LatestBriefing()!.Id.Should().Be("b1");
    }
}

/// <summary>The storage contract on the embedded SQLite file.</summary>
public sealed class SqliteStorageContractTests : StorageContractTests, IDisposable
{
    private readonly TestEnvironment _env = TestEnvironment.Create();

    protected override StoreSet Create()
    {
        var store = new SqliteStore(_env.DatabasePath);
        store.Initialize();
        var delivery = new SqliteDeliveryStore(store.ConnectionString, Clock);
        delivery.Initialize();
        var keys = new SqliteApiKeyStore(store.ConnectionString, Clock);
        keys.Initialize();
        return new StoreSet(store, store, store, store, delivery, keys, () =>
        {
            var reopened = new SqliteStore(_env.DatabasePath);
            reopened.Initialize();
            return reopened.SchemaVersion();
        });
    }

    public void Dispose() => _env.Dispose();
}

/// <summary>The storage contract on PostgreSQL: a database of its own on the server FINNEWS_POSTGRES_CONNECTION names.</summary>
[RequiresPostgres]
public sealed class PostgresStorageContractTests(PostgresDatabase database) : StorageContractTests, IClassFixture<PostgresDatabase>, IDisposable
{
    private PostgresStore? _store;

    protected override StoreSet Create()
    {
        _store = new PostgresStore(database.ConnectionString, Clock);
        _store.Initialize();
        // One database per class: each test starts from empty tables.
        using (var c = new NpgsqlConnection(database.ConnectionString))
        {
            c.Open();
            using var truncate = new NpgsqlCommand(
                "TRUNCATE feeds, articles, market_bars, briefings, send_log, subscribers, api_keys, migrate_progress RESTART IDENTITY CASCADE", c);
            truncate.ExecuteNonQuery();
        }

        return new StoreSet(_store, _store, _store, _store, new PostgresDeliveryStore(_store, Clock), new PostgresApiKeyStore(_store, Clock), () =>
        {
            using var reopened = new PostgresStore(database.ConnectionString, Clock);
            return reopened.Initialize();
        });
    }

    public void Dispose() => _store?.Dispose();
}
