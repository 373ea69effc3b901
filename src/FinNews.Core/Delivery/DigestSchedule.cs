using System.Globalization;
using System.Text.RegularExpressions;
using Quartz;

namespace FinNews.Core.Delivery;

/// <summary>
/// A subscriber's delivery schedule: a Quartz cron expression, or the short forms <c>daily HH:mm</c> and
/// <c>weekdays HH:mm</c>, read in the subscriber's IANA time zone (daylight-saving changes follow the zone).
/// </summary>
/// <remarks>
/// Due rule: a subscriber is due for a briefing when a slot of their schedule falls after both the briefing's
/// creation and the subscription's creation, and at or before now. A slot missed while the process was down is
/// therefore caught up on the next check (once: the send log makes it idempotent), a briefing written after today's
/// slot waits for the next slot, and a new subscriber waits for their first slot.
/// </remarks>
public sealed partial class DigestSchedule
{
    private readonly CronExpression _cron;

    private DigestSchedule(string text, string cron, TimeZoneInfo zone)
    {
        Text = text;
        Cron = cron;
        Zone = zone;
        _cron = new CronExpression(cron, zone);
    }

    /// <summary>The schedule as entered.</summary>
    public string Text { get; }

    /// <summary>The Quartz cron expression it stands for.</summary>
    public string Cron { get; }

    /// <summary>The zone the cron expression is read in.</summary>
    public TimeZoneInfo Zone { get; }

    /// <summary>Parses a schedule; errors name the field and the bad value.</summary>
    public static DigestSchedule Parse(string? schedule, string? timeZone)
    {
        var zone = ParseTimeZone(timeZone);
        var text = (schedule ?? "").Trim();
        var shortForm = ShortForm().Match(text);
        string cron;
        if (shortForm.Success)
        {
            var hour = int.Parse(shortForm.Groups["h"].Value, CultureInfo.InvariantCulture);
            var minute = int.Parse(shortForm.Groups["m"].Value, CultureInfo.InvariantCulture);
            if (hour > 23 || minute > 59)
            {
                throw new SubscriberValidationException("schedule", $"schedule = '{schedule}': {hour:00}:{minute:00} is not a time of day.");
            }

            var days = shortForm.Groups["kind"].Value.Equals("weekdays", StringComparison.OrdinalIgnoreCase) ? "? * MON-FRI" : "* * ?";
            cron = string.Create(CultureInfo.InvariantCulture, $"0 {minute} {hour} {days}");
        }
        else if (CronExpression.TryParse(text, out _))
        {
            cron = text;
        }
        else
        {
            throw new SubscriberValidationException("schedule",
                $"schedule = '{schedule}': not 'daily HH:mm', 'weekdays HH:mm' or a valid Quartz cron expression (e.g. '0 0 7 ? * MON-FRI').");
        }

        return new DigestSchedule(text, cron, zone);
    }

    /// <summary>Finds a time zone by IANA id; errors name the field and the bad value.</summary>
    public static TimeZoneInfo ParseTimeZone(string? timeZone)
    {
        if (string.IsNullOrWhiteSpace(timeZone))
        {
            throw new SubscriberValidationException("timezone", $"timezone = '{timeZone}': an IANA time-zone id is required (e.g. 'Europe/London').");
        }

        // An IANA id is "Area/Location" words (or "UTC"); on Linux the runtime reads the id as a path under
        // /usr/share/zoneinfo, so a folder ("America") or anything path-like is refused before it gets there.
        var id = timeZone.Trim();
        if (id.Length > 64 || !IanaId().IsMatch(id))
        {
            throw new SubscriberValidationException("timezone", $"timezone = '{timeZone}': not an IANA time-zone id (use one such as 'America/New_York').");
        }

        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById(id);
        }
        catch (Exception ex) when (ex is TimeZoneNotFoundException or InvalidTimeZoneException or IOException or UnauthorizedAccessException
            or System.Security.SecurityException)
        {
            throw new SubscriberValidationException($"timezone = '{timeZone}': unknown time zone (use an IANA id such as 'America/New_York').", ex);
        }
    }

    /// <summary>The first slot strictly after <paramref name="after"/>, or null when the schedule never fires again.</summary>
    public DateTimeOffset? NextSlotAfter(DateTimeOffset after) => _cron.GetNextValidTimeAfter(after);

    /// <summary>
    /// The slot that makes the briefing due, if one has come: the first slot after max(briefing written,
    /// subscribed) when it is not later than <paramref name="now"/>.
    /// </summary>
    public DateTimeOffset? DueSlot(DateTimeOffset briefingCreatedAt, DateTimeOffset subscribedAt, DateTimeOffset now)
    {
        var anchor = briefingCreatedAt > subscribedAt ? briefingCreatedAt : subscribedAt;
        var slot = NextSlotAfter(anchor);
        return slot is { } s && s <= now ? s : null;
    }

    // Letters, digits, '_', '-', '+' in one to three slash-separated parts, each starting with a letter ("Etc/GMT+5", "America/Argentina/Buenos_Aires").
    [GeneratedRegex(@"^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z][A-Za-z0-9_+\-]*){0,2}$", RegexOptions.CultureInvariant)]
    private static partial Regex IanaId();

    [GeneratedRegex(@"^(?<kind>daily|weekdays)\s+(?<h>\d{1,2}):(?<m>\d{2})$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex ShortForm();
}
