using System.Globalization;
using Dapper;
using FinNews.Core.Feeds;
using FinNews.Core.Storage.Sqlite;
using FinNews.Tests.Support;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace FinNews.Tests.Feeds;

/// <summary>When feeds are polled: intervals, Retry-After, backoff with jitter, pausing, per-host limits.</summary>
public class FetchScheduleTests
{
    [Theory]
    [InlineData(429)]
    [InlineData(503)]
    public async Task Retry_After_in_seconds_holds_the_next_poll_until_then(int status)
    {
        await using var server = await FetchTestServer.StartAsync(c =>
        {
            c.Response.StatusCode = status;
            c.Response.Headers.RetryAfter = "7200";
            return Task.CompletedTask;
        });
        using var h = new FetchHarness();
        var feed = FetchFeeds.Internal("wire", server.Url("/rss"), intervalMinutes: 1);
        var start = h.Clock.Now;

        var result = (await h.IngestDueAsync(feed)).Single();

        result.Error.Should().Contain($"answered {status}").And.Contain("Retry-After: 7200");
        var state = h.State("wire");
        state.RetryAfterUntil.Should().Be(start.AddSeconds(7200));
        state.NextPollAt.Should().Be(start.AddSeconds(7200), "Retry-After outweighs the 60 s backoff");

        h.Clock.Now = start.AddSeconds(7199);
        (await h.IngestDueAsync(feed)).Should().BeEmpty();
        server.Requests.Should().HaveCount(1, "a scheduled pass does not poll before Retry-After");

        h.Clock.Now = start.AddSeconds(7200);
        (await h.IngestDueAsync(feed)).Should().ContainSingle();
        server.Requests.Should().HaveCount(2);
    }

    [Fact]
    public async Task Retry_After_as_an_HTTP_date_holds_the_next_poll_until_that_date()
    {
        using var h = new FetchHarness();
        var until = h.Clock.Now.AddHours(3);
        await using var server = await FetchTestServer.StartAsync(c =>
        {
            c.Response.StatusCode = 429;
            c.Response.Headers.RetryAfter = until.ToString("R", CultureInfo.InvariantCulture);
            return Task.CompletedTask;
        });

        await h.IngestDueAsync(FetchFeeds.Internal("wire", server.Url("/rss"), intervalMinutes: 1));

        h.State("wire").NextPollAt.Should().Be(until);
        h.State("wire").RetryAfterUntil.Should().Be(until);
    }

    [Fact]
    public async Task An_absurd_Retry_After_is_capped()
    {
        await using var server = await FetchTestServer.StartAsync(c =>
        {
            c.Response.StatusCode = 503;
            c.Response.Headers.RetryAfter = "31536000";
            return Task.CompletedTask;
        });
        using var h = new FetchHarness();

        await h.IngestDueAsync(FetchFeeds.Internal("wire", server.Url("/rss"), intervalMinutes: 1));

        h.State("wire").NextPollAt.Should().Be(h.Clock.Now.AddSeconds(h.Poll.MaxRetryAfterSeconds));
    }

    [Fact]
    public async Task A_streak_of_500s_doubles_the_backoff_then_pauses_the_feed_after_the_configured_days()
    {
        var healthy = false;
        await using var server = await FetchTestServer.StartAsync(c =>
        {
            if (healthy)
            {
                return FetchFeeds.WriteRss(c);
            }

            c.Response.StatusCode = 500;
            return Task.CompletedTask;
        });
        using var h = new FetchHarness(poll: o => o.BackoffMaxSeconds = 3600);
        var feed = FetchFeeds.Internal("wire", server.Url("/rss"), intervalMinutes: 1);
        var start = h.Clock.Now;

        var gaps = new List<double>();
        for (var i = 0; i < 8; i++)
        {
            (await h.IngestDueAsync(feed)).Should().ContainSingle(r => r.Error != null);
            var state = h.State("wire");
            state.ErrorCount.Should().Be(i + 1);
            state.FirstFailureAt.Should().Be(start);
            gaps.Add((state.NextPollAt!.Value - h.Clock.Now).TotalSeconds);

            // Not due a second before its time...
            h.Clock.Now = state.NextPollAt.Value.AddSeconds(-1);
            (await h.IngestDueAsync(feed)).Should().BeEmpty();
            h.Clock.Now = state.NextPollAt.Value;
        }

        gaps.Should().Equal(60, 120, 240, 480, 960, 1920, 3600, 3600);
        h.State("wire").Paused.Should().BeFalse();

        h.Clock.Now = start.AddDays(7);
        await h.IngestDueAsync(feed);
        var paused = h.State("wire");
        paused.Paused.Should().BeTrue();
        paused.PausedReason.Should().StartWith("Paused after 9 failed fetches since 2026-11-20 12:00 UTC (over 7 days); last error: Feed 'wire':")
            .And.Contain("answered 500");
        var seen = server.Requests.Count;

        h.Clock.Now = start.AddDays(30);
        healthy = true;
        (await h.IngestDueAsync(feed)).Should().BeEmpty("a paused feed is not due");
        (await h.IngestAsync(feed)).Should().BeEmpty("the manual pass skips paused feeds too");
        server.Requests.Should().HaveCount(seen);
        h.Store.ListFeedStates().Should().ContainSingle(s => s.Id == "wire", "a paused feed is kept, not deleted");

        h.Store.ResumeFeed("wire").Should().BeTrue();
        (await h.IngestDueAsync(feed)).Single().Counts!.Inserted.Should().Be(2);
        var resumed = h.State("wire");
        resumed.Paused.Should().BeFalse();
        resumed.ErrorCount.Should().Be(0);
        resumed.FirstFailureAt.Should().BeNull();
        resumed.NextPollAt.Should().Be(h.Clock.Now.AddMinutes(1));
    }

    [Fact]
    public async Task A_success_resets_the_error_streak()
    {
        var fail = true;
        await using var server = await FetchTestServer.StartAsync(c =>
        {
            if (fail)
            {
                c.Response.StatusCode = 500;
                return Task.CompletedTask;
            }

            return FetchFeeds.WriteRss(c);
        });
        using var h = new FetchHarness();
        var feed = FetchFeeds.Internal("wire", server.Url("/rss"), intervalMinutes: 1);
        await h.IngestAsync(feed);
        await h.IngestAsync(feed);
        h.State("wire").ErrorCount.Should().Be(2);

        fail = false;
        await h.IngestAsync(feed);

        var state = h.State("wire");
        state.ErrorCount.Should().Be(0);
        state.FirstFailureAt.Should().BeNull();
        state.LastError.Should().BeNull();

        fail = true;
        await h.IngestAsync(feed);
        h.State("wire").NextPollAt.Should().Be(h.Clock.Now.AddSeconds(60), "the backoff starts again from the base");
    }

    [Fact]
    public async Task The_manual_pass_polls_a_feed_that_is_backing_off_but_the_scheduled_pass_waits()
    {
        await using var server = await FetchTestServer.StartAsync(c => FetchFeeds.WriteRss(c));
        using var h = new FetchHarness();
        var feed = FetchFeeds.Internal("wire", server.Url("/rss"), intervalMinutes: 30);

        await h.IngestDueAsync(feed);
        (await h.IngestDueAsync(feed)).Should().BeEmpty("the feed is not due for 30 minutes");
        (await h.IngestAsync(feed)).Should().ContainSingle();
        server.Requests.Should().HaveCount(2);

        h.Clock.Now = h.Clock.Now.AddMinutes(30);
        (await h.IngestDueAsync(feed)).Should().ContainSingle();
    }

    [Fact]
    public void The_backoff_jitter_stays_within_its_fraction_and_the_maximum_applies_before_it()
    {
        var options = new PollOptions { BackoffBaseSeconds = 100, BackoffMaxSeconds = 1000, JitterFraction = 0.2 };
        var clock = new ManualTimeProvider(Some.Day);
        var unit = 0.0;
        var policy = new FeedPollPolicy(options, clock, () => unit);
        var feed = new FeedDefinition("f", "F", "https://f.example/rss", IntervalMinutes: 1);
        FeedState After(int errors) => new("f", "F", feed.Url, null, null, null, null, "x", errors, 0) { FirstFailureAt = Some.Day };
        double Delay(int errors) => (policy.AfterFailure(feed, After(errors), "boom", null).NextPollAt - Some.Day).TotalSeconds;

        unit = 0.0;
        Delay(0).Should().Be(80);
        Delay(2).Should().Be(320);
        unit = 1.0;
        Delay(0).Should().Be(120);
        Delay(10).Should().Be(1200, "max 1000 then +20 %");

        var random = new FeedPollPolicy(options, clock);
        var delays = Enumerable.Range(0, 200).Select(_ => (random.AfterFailure(feed, After(3), "boom", null).NextPollAt - Some.Day).TotalSeconds).ToList();
        delays.Should().OnlyContain(d => d >= 640 && d <= 960);
        delays.Distinct().Count().Should().BeGreaterThan(10, "the default jitter source spreads retries");
    }

    [Fact]
    public void A_failing_feed_is_not_polled_more_often_than_its_interval()
    {
        var policy = new FeedPollPolicy(new PollOptions { BackoffBaseSeconds = 60 }, new ManualTimeProvider(Some.Day), () => 0.5);
        var feed = new FeedDefinition("f", "F", "https://f.example/rss", IntervalMinutes: 30);

        policy.AfterFailure(feed, null, "boom", null).NextPollAt.Should().Be(Some.Day.AddMinutes(30));
    }

    [Fact]
    public async Task Feeds_on_one_host_are_fetched_at_most_two_at_a_time_and_results_keep_list_order()
    {
        var inFlight = 0;
        var peak = 0;
        await using var server = await FetchTestServer.StartAsync(async c =>
        {
            var now = Interlocked.Increment(ref inFlight);
            InterlockedMax(ref peak, now);
            await Task.Delay(150);
            Interlocked.Decrement(ref inFlight);
            await FetchFeeds.WriteRss(c, c.Request.Path.Value!.Trim('/'));
        });
        using var h = new FetchHarness();
        var feeds = Enumerable.Range(1, 6).Select(i => FetchFeeds.Internal($"f{i}", server.Url($"/f{i}"))).ToArray();

        var results = await h.IngestAsync(feeds);

        results.Select(r => r.FeedId).Should().Equal("f1", "f2", "f3", "f4", "f5", "f6");
        results.Should().OnlyContain(r => r.Error == null && r.Counts!.Inserted == 2);
        peak.Should().Be(2);
    }

    [Fact]
    public async Task Feeds_on_different_hosts_are_fetched_in_parallel_up_to_the_feed_limit()
    {
        var inFlight = 0;
        var peak = 0;
        // Each answer waits until four fetches are in flight (or 10 s pass), so reaching the limit does not depend on
        // how busy the machine is; going past it would still show in the peak.
        var fourInFlight = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await FetchTestServer.StartAsync(async c =>
        {
            var now = Interlocked.Increment(ref inFlight);
            InterlockedMax(ref peak, now);
            if (now >= 4)
            {
                fourInFlight.TrySetResult();
            }

            await Task.WhenAny(fourInFlight.Task, Task.Delay(TimeSpan.FromSeconds(10)));
            await Task.Delay(50);
            Interlocked.Decrement(ref inFlight);
            await FetchFeeds.WriteRss(c, c.Request.Path.Value!.Trim('/'));
        });
        // Six host names, one loopback server: the per-host limit does not bind, the feed limit (4) does.
        var dns = Enumerable.Range(1, 6).ToDictionary(i => $"h{i}.test", _ => System.Net.IPAddress.Loopback);
        using var h = new FetchHarness(dns: dns);
        var feeds = Enumerable.Range(1, 6).Select(i => FetchFeeds.Internal($"f{i}", $"http://h{i}.test:{server.Port}/f{i}")).ToArray();

        var results = await h.IngestAsync(feeds);

        results.Should().OnlyContain(r => r.Error == null);
        peak.Should().Be(4);
    }

    [Fact]
    public void A_database_from_before_the_schedule_columns_gains_them_and_keeps_its_rows()
    {
        var dir = Path.Combine(Path.GetTempPath(), "finnews-tests", "migrate-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, "finnews.db");
        using (var c = new SqliteConnection($"Data Source={path}"))
        {
            c.Open();
            c.Execute("""
                CREATE TABLE feeds (id TEXT PRIMARY KEY, name TEXT NOT NULL, url TEXT NOT NULL, etag TEXT, last_modified TEXT,
                  last_fetch_at INTEGER, last_success_at INTEGER, last_error TEXT, error_count INTEGER NOT NULL DEFAULT 0,
                  items_total INTEGER NOT NULL DEFAULT 0);
                INSERT INTO feeds(id, name, url, etag, error_count) VALUES ('old', 'Old', 'https://old.example/rss', '"e"', 3);
                """);
        }

        try
        {
            var store = new SqliteStore(path);
            store.Initialize();
            store.Initialize();

            var state = store.GetFeedState("old")!;
            state.ETag.Should().Be("\"e\"");
            state.ErrorCount.Should().Be(3);
            state.Paused.Should().BeFalse();
            state.NextPollAt.Should().BeNull();
            state.FetchUrl.Should().Be("https://old.example/rss");
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void The_ingestor_resolves_from_dependency_injection_with_or_without_a_registered_policy(bool withPolicy)
    {
        var dir = Path.Combine(Path.GetTempPath(), "finnews-tests", "di-" + Guid.NewGuid().ToString("N")[..12]);
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<TimeProvider>(new ManualTimeProvider(Some.Day));
        var store = new SqliteStore(Path.Combine(dir, "f.db"));
        services.AddSingleton<IFeedStore>(store);
        services.AddSingleton<IArticleStore>(store);
        services.AddSingleton(new ArticleNormalizer(new TickerTagger(new Watchlist([]))));
        services.AddSingleton(new FeedFetcher(new HttpClient(), new FetchOptions(), dir));
        if (withPolicy)
        {
            services.AddSingleton(new FeedPollPolicy(new PollOptions(), new ManualTimeProvider(Some.Day)));
        }

        services.AddSingleton<FeedIngestor>();
        using var provider = services.BuildServiceProvider();

        provider.GetRequiredService<FeedIngestor>().Should().NotBeNull();
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }
}
