using FinNews.Core.Delivery;

namespace FinNews.Tests.Delivery;

public class DigestScheduleTests
{
    private static readonly DateTimeOffset Briefing = new(2026, 11, 21, 6, 0, 5, TimeSpan.Zero);
    private static readonly DateTimeOffset LongAgo = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_daily_time_is_read_in_the_subscribers_time_zone()
    {
        // 07:00 in New York in November (EST, UTC-5) is 12:00 UTC.
        var schedule = DigestSchedule.Parse("daily 07:00", "America/New_York");

        schedule.Cron.Should().Be("0 0 7 * * ?");
        schedule.DueSlot(Briefing, LongAgo, new DateTimeOffset(2026, 11, 21, 11, 59, 0, TimeSpan.Zero)).Should().BeNull();
        schedule.DueSlot(Briefing, LongAgo, new DateTimeOffset(2026, 11, 21, 12, 0, 0, TimeSpan.Zero))
            .Should().Be(new DateTimeOffset(2026, 11, 21, 12, 0, 0, TimeSpan.Zero));
    }

    [Fact]
    public void Daylight_saving_moves_the_utc_slot()
    {
        var schedule = DigestSchedule.Parse("daily 07:00", "Europe/Berlin");

        schedule.NextSlotAfter(new DateTimeOffset(2026, 7, 1, 0, 0, 0, TimeSpan.Zero)).Should().Be(new DateTimeOffset(2026, 7, 1, 5, 0, 0, TimeSpan.Zero));
        schedule.NextSlotAfter(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero)).Should().Be(new DateTimeOffset(2026, 12, 1, 6, 0, 0, TimeSpan.Zero));
    }

    [Fact]
    public void A_slot_missed_while_down_is_caught_up_and_a_later_briefing_waits_for_the_next_slot()
    {
        var schedule = DigestSchedule.Parse("daily 07:00", "UTC");

        schedule.DueSlot(Briefing, LongAgo, Briefing.AddHours(30)).Should().Be(new DateTimeOffset(2026, 11, 21, 7, 0, 0, TimeSpan.Zero));
        var lateBriefing = new DateTimeOffset(2026, 11, 21, 9, 0, 0, TimeSpan.Zero);
        schedule.DueSlot(lateBriefing, LongAgo, lateBriefing.AddHours(2)).Should().BeNull();
        schedule.DueSlot(lateBriefing, LongAgo, new DateTimeOffset(2026, 11, 22, 7, 0, 0, TimeSpan.Zero)).Should().NotBeNull();
    }

    [Fact]
    public void A_new_subscriber_waits_for_their_first_slot()
    {
        var schedule = DigestSchedule.Parse("daily 07:00", "UTC");
        var subscribed = new DateTimeOffset(2026, 11, 21, 8, 0, 0, TimeSpan.Zero);

        schedule.DueSlot(Briefing, subscribed, subscribed.AddHours(1)).Should().BeNull();
        schedule.DueSlot(Briefing, subscribed, subscribed.AddHours(23)).Should().NotBeNull();
    }

    [Fact]
    public void Weekdays_skips_the_weekend_and_cron_is_accepted_as_is()
    {
        var saturday = new DateTimeOffset(2026, 11, 21, 0, 0, 0, TimeSpan.Zero);

        DigestSchedule.Parse("weekdays 06:30", "UTC").NextSlotAfter(saturday).Should().Be(new DateTimeOffset(2026, 11, 23, 6, 30, 0, TimeSpan.Zero));
        DigestSchedule.Parse("0 15 18 ? * SAT", "UTC").NextSlotAfter(saturday).Should().Be(new DateTimeOffset(2026, 11, 21, 18, 15, 0, TimeSpan.Zero));
    }
}
