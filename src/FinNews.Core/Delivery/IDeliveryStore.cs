namespace FinNews.Core.Delivery;

// CA1716: "error" and "to" are Visual Basic keywords only; the names match the implementations and the callers\' named arguments.
#pragma warning disable CA1716

/// <summary>Subscribers and the send log of email digests.</summary>
/// <remarks>
/// The send log has one row per (subscriber, briefing). A sender claims the row before it talks to the mail server and
/// only the claim that inserted it may send: a subscriber never gets the same briefing twice, across runs, restarts and
/// concurrent workers.
/// </remarks>
public interface IDeliveryStore
{
    /// <summary>Validates and stores a subscription; a known address (any case) keeps its id and token and is reactivated.</summary>
    /// <exception cref="SubscriberValidationException">A field is invalid; the message names it and its value.</exception>
    Subscriber AddSubscriber(NewSubscriber request);

    Subscriber? GetSubscriber(long id);

    /// <summary>Subscribers by id; only active ones unless <paramref name="includeInactive"/>.</summary>
    IReadOnlyList<Subscriber> ListSubscribers(bool includeInactive = false);

    /// <summary>Deactivates the subscriber holding <paramref name="token"/>; idempotent; false when none holds it.</summary>
    bool Unsubscribe(string token);

    /// <summary>Claims a delivery; true only for the caller that inserted its send-log row.</summary>
    bool TryClaim(long subscriberId, string briefingId);

    void RecordAttemptFailed(long subscriberId, string briefingId, string error);

    void MarkSent(long subscriberId, string briefingId);

    void MarkFailed(long subscriberId, string briefingId);

    void MarkSkipped(long subscriberId, string briefingId, string reason);

    SendLogEntry? GetSendLog(long subscriberId, string briefingId);

    /// <summary>The send log of one briefing (or of all, newest first).</summary>
    IReadOnlyList<SendLogEntry> ListSendLog(string? briefingId = null, int limit = 500);

    /// <summary>Failed deliveries and claims still sending after <paramref name="staleAfter"/>.</summary>
    IReadOnlyList<SendLogEntry> ListProblems(TimeSpan staleAfter);
}
