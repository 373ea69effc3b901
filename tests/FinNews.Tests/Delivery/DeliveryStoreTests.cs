using FinNews.Core.Delivery;
using FinNews.Core.Storage.Sqlite;
using FinNews.Tests.Support;

namespace FinNews.Tests.Delivery;

public sealed class DeliveryStoreTests : IDisposable
{
    private readonly TestEnvironment _env = TestEnvironment.Create();
    private readonly ManualTimeProvider _clock = new(DigestTestData.Written);

    public void Dispose() => _env.Dispose();

    private SqliteDeliveryStore NewStore()
    {
        var sqlite = new SqliteStore(_env.DatabasePath);
        sqlite.Initialize();
        var store = new SqliteDeliveryStore(sqlite.ConnectionString, _clock);
        store.Initialize();
        return store;
    }

    [Theory]
    [InlineData("not-an-email", "UTC", "daily 07:00", "email = 'not-an-email'")]
    [InlineData("Ann <ann@example.com>", "UTC", "daily 07:00", "email = 'Ann <ann@example.com>'")]
    [InlineData("ann@example.com\r\nBcc: x@example.com", "UTC", "daily 07:00", "email = ")]
    [InlineData("ann@example.com", "Mars/Olympus_Mons", "daily 07:00", "timezone = 'Mars/Olympus_Mons': unknown time zone")]
    [InlineData("ann@example.com", "", "daily 07:00", "timezone = ''")]
    [InlineData("ann@example.com", "Europe/Paris", "0 0 25 * * ?", "schedule = '0 0 25 * * ?'")]
    [InlineData("ann@example.com", "Europe/Paris", "daily 7am", "schedule = 'daily 7am'")]
    [InlineData("ann@example.com", "Europe/Paris", "daily 24:00", "schedule = 'daily 24:00': 24:00 is not a time of day")]
    public void A_bad_subscription_is_refused_naming_the_field_and_value(string email, string zone, string schedule, string expected)
    {
        var store = NewStore();

        var act = () => store.AddSubscriber(new NewSubscriber(email, zone, schedule));

        act.Should().Throw<SubscriberValidationException>().Which.Message.Should().Contain(expected);
        store.ListSubscribers(includeInactive: true).Should().BeEmpty();
    }

    [Fact]
    public void Bad_filters_are_refused_naming_the_field_and_value()
    {
        var store = NewStore();

        store.Invoking(s => s.AddSubscriber(new NewSubscriber("a@example.com", Tickers: ["NV LX"])))
            .Should().Throw<SubscriberValidationException>().WithMessage("tickers = 'NV LX': not a symbol*");
        store.Invoking(s => s.AddSubscriber(new NewSubscriber("a@example.com", Sections: ["<top>"])))
            .Should().Throw<SubscriberValidationException>().WithMessage("sections = '<top>': not a section key*");
    }

    [Fact]
    public void A_subscription_is_stored_normalized_with_a_random_unsubscribe_token()
    {
        var store = NewStore();

        var a = store.AddSubscriber(new NewSubscriber(" ann@example.com ", "America/New_York", "0 30 6 ? * MON-FRI", ["Top", "watchlist"], ["$nvlx", "ACME", "NVLX"]));
        var b = store.AddSubscriber(new NewSubscriber("bob@example.com"));

        a.Email.Should().Be("ann@example.com");
        a.TimeZone.Should().Be("America/New_York");
        a.Sections.Should().Equal("top", "watchlist");
        a.Tickers.Should().Equal("NVLX", "ACME");
        a.CreatedAt.Should().Be(DigestTestData.Written);
        a.UnsubscribeToken.Should().MatchRegex("^[A-Za-z0-9_-]{32}$").And.NotBe(b.UnsubscribeToken);
        store.GetSubscriber(a.Id).Should().BeEquivalentTo(a);
    }

    [Fact]
    public void Unsubscribing_deactivates_and_subscribing_again_reactivates_the_same_subscriber()
    {
        var store = NewStore();
        var a = store.AddSubscriber(new NewSubscriber("ann@example.com"));

        store.Unsubscribe(a.UnsubscribeToken).Should().BeTrue();
        store.Unsubscribe(a.UnsubscribeToken).Should().BeTrue("one-click POSTs may repeat");
        store.Unsubscribe("wrong").Should().BeFalse();
        store.ListSubscribers().Should().BeEmpty();

        var again = store.AddSubscriber(new NewSubscriber("ANN@example.com", Schedule: "weekdays 06:15"));
        again.Id.Should().Be(a.Id);
        again.Active.Should().BeTrue();
        again.Schedule.Should().Be("weekdays 06:15");
    }

    [Fact]
    public void A_delivery_can_be_claimed_once_even_from_a_new_store_over_the_same_file()
    {
        var first = NewStore();
        var ann = first.AddSubscriber(new NewSubscriber("ann@example.com"));

        first.TryClaim(ann.Id, "b1").Should().BeTrue();
        first.TryClaim(ann.Id, "b1").Should().BeFalse();
        first.MarkSent(ann.Id, "b1");
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        var restarted = NewStore();

        restarted.TryClaim(ann.Id, "b1").Should().BeFalse("the send log survives a restart");
        restarted.TryClaim(ann.Id, "b2").Should().BeTrue("another briefing is another delivery");
        var entry = restarted.GetSendLog(ann.Id, "b1")!;
        entry.Status.Should().Be(SendStatus.Sent);
        entry.Attempts.Should().Be(1);
        entry.SentAt.Should().Be(DigestTestData.Written);
    }

    [Fact]
    public void The_unique_key_holds_under_concurrent_claims()
    {
        var store = NewStore();
        var ann = store.AddSubscriber(new NewSubscriber("ann@example.com"));

        var wins = Enumerable.Range(0, 16).AsParallel().Select(_ => NewStore().TryClaim(ann.Id, "b1")).Count(won => won);

        wins.Should().Be(1);
    }

    [Fact]
    public void Failures_and_stale_claims_are_listed_as_problems()
    {
        var store = NewStore();
        var ann = store.AddSubscriber(new NewSubscriber("ann@example.com"));
        var bob = store.AddSubscriber(new NewSubscriber("bob@example.com"));
        store.TryClaim(ann.Id, "b1");
        store.RecordAttemptFailed(ann.Id, "b1", "SMTP 421: try later");
        store.MarkFailed(ann.Id, "b1");
        store.TryClaim(bob.Id, "b1"); // the process "died" during the SMTP conversation
        _clock.Now = _clock.Now.AddHours(1);

        var problems = store.ListProblems(TimeSpan.FromMinutes(10));

        problems.Select(p => (p.Email, p.Status)).Should().BeEquivalentTo([("ann@example.com", SendStatus.Failed), ("bob@example.com", SendStatus.Sending)]);
        problems.Single(p => p.Status == SendStatus.Failed).LastError.Should().Be("SMTP 421: try later");
        store.ListProblems(TimeSpan.FromHours(2)).Should().ContainSingle(p => p.Status == SendStatus.Failed);
    }
}
