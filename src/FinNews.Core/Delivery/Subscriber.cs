namespace FinNews.Core.Delivery;

/// <summary>A digest subscriber as stored.</summary>
/// <param name="Id">Row id.</param>
/// <param name="Email">Bare address (no display name).</param>
/// <param name="TimeZone">IANA time-zone id the schedule is read in.</param>
/// <param name="Schedule">As entered: a Quartz cron expression or "daily HH:mm" / "weekdays HH:mm".</param>
/// <param name="Sections">Section keys to include; empty = every section.</param>
/// <param name="Tickers">Symbols to include; empty = no ticker filter.</param>
/// <param name="UnsubscribeToken">Opaque random token for the unsubscribe link (the only credential it grants is unsubscribing).</param>
/// <param name="Active">False once unsubscribed.</param>
/// <param name="CreatedAt">When the subscription was made (UTC); slots before it are never due.</param>
public sealed record Subscriber(
    long Id,
    string Email,
    string TimeZone,
    string Schedule,
    IReadOnlyList<string> Sections,
    IReadOnlyList<string> Tickers,
    string UnsubscribeToken,
    bool Active,
    DateTimeOffset CreatedAt);

/// <summary>What a new subscription asks for; validated by <see cref="IDeliveryStore.AddSubscriber"/> (<see cref="SubscriberRules"/>).</summary>
public sealed record NewSubscriber(
    string Email,
    string TimeZone = "UTC",
    string Schedule = "daily 07:00",
    IReadOnlyList<string>? Sections = null,
    IReadOnlyList<string>? Tickers = null);

/// <summary>State of one (subscriber, briefing) delivery.</summary>
public enum SendStatus
{
    /// <summary>Claimed, SMTP conversation in progress (or the process died during it: never resent).</summary>
    Sending,

    /// <summary>The SMTP server accepted the message.</summary>
    Sent,

    /// <summary>Every attempt failed; <see cref="SendLogEntry.LastError"/> says why.</summary>
    Failed,

    /// <summary>Nothing in the briefing matched the subscriber's filters, so no mail was sent.</summary>
    Skipped,
}

/// <summary>One row of the send log.</summary>
public sealed record SendLogEntry(
    long SubscriberId,
    string Email,
    string BriefingId,
    SendStatus Status,
    int Attempts,
    string? LastError,
    DateTimeOffset ClaimedAt,
    DateTimeOffset? SentAt);

/// <summary>A field that failed validation, named with its bad value.</summary>
public sealed class SubscriberValidationException : ArgumentException
{
    public SubscriberValidationException()
    {
    }

    public SubscriberValidationException(string message) : base(message)
    {
    }

    public SubscriberValidationException(string message, Exception innerException) : base(message, innerException)
    {
    }

    public SubscriberValidationException(string field, string message) : base(message, field)
    {
    }
}
