using FinNews.Core.Briefing;
using FinNews.Core.Feeds;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Logging;
using MimeKit;
using MimeKit.Text;

namespace FinNews.Core.Delivery;

/// <summary>Hands a finished message to a mail server. Swapped in tests to simulate an unreachable or refusing server.</summary>
public interface IMailTransport
{
    /// <summary>Sends one message; throws when the server did not accept it.</summary>
    Task SendAsync(MimeMessage message, CancellationToken cancellationToken);
}

/// <summary>SMTP through MailKit: one connection per message (STARTTLS, implicit TLS on 465, AUTH when a user is set).</summary>
public sealed class SmtpMailTransport : IMailTransport
{
    private readonly SmtpOptions _options;

    public SmtpMailTransport(SmtpOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
    }

    public async Task SendAsync(MimeMessage message, CancellationToken cancellationToken)
    {
        using var client = new SmtpClient { Timeout = _options.TimeoutSeconds * 1000 };
        await client.ConnectAsync(_options.Host, _options.Port, SmtpOptions.SocketOptions(_options.Security), cancellationToken);
        var user = Environment.GetEnvironmentVariable(_options.UsernameVariable);
        if (!string.IsNullOrEmpty(user))
        {
            await client.AuthenticateAsync(user, Environment.GetEnvironmentVariable(_options.PasswordVariable) ?? "", cancellationToken);
        }

        await client.SendAsync(message, cancellationToken);
        await client.DisconnectAsync(quit: true, cancellationToken);
    }
}

/// <summary>What one run of the digest sender did.</summary>
/// <param name="BriefingId">The latest briefing, or null when none is stored yet.</param>
/// <param name="Due">Subscribers whose slot had come and who had not had this briefing (claims won).</param>
/// <param name="Sent">Messages the server accepted.</param>
/// <param name="Failed">Deliveries that failed every attempt.</param>
/// <param name="Skipped">Deliveries with nothing matching the subscriber's filters (no mail).</param>
public sealed record DigestRunResult(string? BriefingId, int Due, int Sent, int Failed, int Skipped)
{
    public static readonly DigestRunResult Nothing = new(null, 0, 0, 0, 0);
}

/// <summary>
/// Sends the latest stored briefing to every active subscriber whose schedule slot has come and who has not had it.
/// </summary>
/// <remarks>
/// <para>Exactly-once is impossible over SMTP (a crash after the server accepted a message but before we record it
/// leaves no way to know), so this sender is <b>at most once</b>: each delivery is claimed in the send log
/// (status "sending", UNIQUE(subscriber, briefing)) before the SMTP conversation, and only the claim that inserted
/// the row sends. A crash between send and mark leaves the row "sending": it is never resent automatically, and
/// <see cref="IDeliveryStore.ListProblems"/> reports it for an operator. A missed digest is a lesser harm than a
/// duplicate to every subscriber after each crash loop.</para>
/// <para>Within a run a failed attempt is retried after an exponential backoff (<see cref="DigestOptions.RetryAttempts"/>,
/// <see cref="DigestOptions.RetryBaseDelaySeconds"/> doubled each time); permanent SMTP errors (5xx: mailbox unknown,
/// message refused) are not retried. After the last attempt the delivery is "failed" for good, with its last error.</para>
/// </remarks>
public sealed class DigestSender
{
    private readonly IArticleStore _store;
    private readonly IBriefingStore _briefings;
    private readonly IDeliveryStore _delivery;
    private readonly DigestRenderer _renderer;
    private readonly IMailTransport _transport;
    private readonly SmtpOptions _smtp;
    private readonly DigestOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<DigestSender> _logger;

    public DigestSender(IArticleStore store, IBriefingStore briefings, IDeliveryStore delivery, DigestRenderer renderer, IMailTransport transport,
        SmtpOptions smtp, DigestOptions options, TimeProvider time, ILogger<DigestSender> logger)
    {
        _store = store;
        _briefings = briefings;
        _delivery = delivery;
        _renderer = renderer;
        _transport = transport;
        _smtp = smtp;
        _options = options;
        _time = time;
        _logger = logger;
    }

    /// <summary>One pass: claims and sends every due delivery of the latest briefing.</summary>
    public async Task<DigestRunResult> SendDueAsync(CancellationToken cancellationToken)
    {
        var briefing = _briefings.LatestBriefing();
        if (briefing is null)
        {
            return DigestRunResult.Nothing;
        }

        var now = _time.GetUtcNow();
        IReadOnlyDictionary<string, IReadOnlyList<string>>? tickers = null;
        int due = 0, sent = 0, failed = 0, skipped = 0;
        foreach (var subscriber in _delivery.ListSubscribers())
        {
            cancellationToken.ThrowIfCancellationRequested();
            DateTimeOffset? slot;
            try
            {
                slot = DigestSchedule.Parse(subscriber.Schedule, subscriber.TimeZone).DueSlot(briefing.CreatedAt, subscriber.CreatedAt, now);
            }
            catch (SubscriberValidationException ex)
            {
                // Validated when stored; a zone removed from the OS's tz database since is reported, not fatal to the others.
                _logger.LogError("Subscriber {SubscriberId} has an unusable schedule: {Error}", subscriber.Id, ex.Message);
                continue;
            }

            if (slot is null || !_delivery.TryClaim(subscriber.Id, briefing.Id))
            {
                continue;
            }

            due++;
            if (subscriber.Tickers.Count > 0)
            {
                tickers ??= ArticleTickers(briefing);
            }

            switch (await DeliverAsync(briefing, subscriber, tickers, cancellationToken))
            {
                case SendStatus.Sent:
                    sent++;
                    break;
                case SendStatus.Skipped:
                    skipped++;
                    break;
                default:
                    failed++;
                    break;
            }
        }

        if (due > 0)
        {
            _logger.LogInformation("Digest run for briefing {BriefingId}: {Due} due, {Sent} sent, {Failed} failed, {Skipped} skipped",
                briefing.Id, due, sent, failed, skipped);
        }

        return new DigestRunResult(briefing.Id, due, sent, failed, skipped);
    }

    private async Task<SendStatus> DeliverAsync(BriefingDocument briefing, Subscriber subscriber,
        IReadOnlyDictionary<string, IReadOnlyList<string>>? tickers, CancellationToken cancellationToken)
    {
        DigestMessage digest;
        try
        {
            digest = _renderer.Render(briefing, subscriber, tickers);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or InvalidOperationException)
        {
            _delivery.RecordAttemptFailed(subscriber.Id, briefing.Id, "render: " + ex.Message);
            _delivery.MarkFailed(subscriber.Id, briefing.Id);
            _logger.LogError(ex, "Digest of {BriefingId} for subscriber {SubscriberId} could not be rendered", briefing.Id, subscriber.Id);
            return SendStatus.Failed;
        }

        if (digest.IsEmpty)
        {
            _delivery.MarkSkipped(subscriber.Id, briefing.Id, "nothing matched the subscriber's sections and tickers");
            return SendStatus.Skipped;
        }

        MimeMessage message;
        try
        {
            message = ToMimeMessage(digest, subscriber, briefing.Id);
        }
        catch (ParseException ex)
        {
            _delivery.RecordAttemptFailed(subscriber.Id, briefing.Id, "address: " + ex.Message);
            _delivery.MarkFailed(subscriber.Id, briefing.Id);
            _logger.LogError("Digest of {BriefingId} for subscriber {SubscriberId}: an address could not be written: {Error}", briefing.Id, subscriber.Id, ex.Message);
            return SendStatus.Failed;
        }

        for (var attempt = 1; ; attempt++)
        {
            string error;
            var permanent = false;
            try
            {
                await _transport.SendAsync(message, cancellationToken);
                _delivery.MarkSent(subscriber.Id, briefing.Id);
                _logger.LogInformation("Digest of {BriefingId} sent to subscriber {SubscriberId} (attempt {Attempt})", briefing.Id, subscriber.Id, attempt);
                return SendStatus.Sent;
            }
            catch (SmtpCommandException ex) when (!cancellationToken.IsCancellationRequested)
            {
                // 5xx: the server refused for good (mailbox unknown, message refused); 4xx: try again later.
                permanent = (int)ex.StatusCode >= 500;
                error = $"SMTP {(int)ex.StatusCode} {ex.StatusCode}: {Flatten(ex)}";
            }
            catch (AuthenticationException ex) when (!cancellationToken.IsCancellationRequested)
            {
                permanent = true;
                error = "SMTP authentication failed (check FINNEWS_SMTP_USERNAME/_PASSWORD): " + Flatten(ex);
            }
            catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or SmtpProtocolException or SslHandshakeException
                or ServiceNotConnectedException or InvalidOperationException or TimeoutException && !cancellationToken.IsCancellationRequested)
            {
                error = Flatten(ex);
            }

            _delivery.RecordAttemptFailed(subscriber.Id, briefing.Id, error);
            _logger.LogWarning("Digest of {BriefingId} to subscriber {SubscriberId}: attempt {Attempt} of {Attempts} failed: {Error}",
                briefing.Id, subscriber.Id, attempt, _options.RetryAttempts, error);
            if (permanent || attempt >= _options.RetryAttempts)
            {
                _delivery.MarkFailed(subscriber.Id, briefing.Id);
                return SendStatus.Failed;
            }

            try
            {
                await Task.Delay(TimeSpan.FromSeconds(_options.RetryBaseDelaySeconds * Math.Pow(2, attempt - 1)), _time, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                // Shutting down between attempts: nothing is in flight, so the outcome is known: not delivered.
                _delivery.RecordAttemptFailed(subscriber.Id, briefing.Id, error + " (stopped before the next attempt)");
                _delivery.MarkFailed(subscriber.Id, briefing.Id);
                throw;
            }
        }
    }

    private MimeMessage ToMimeMessage(DigestMessage digest, Subscriber subscriber, string briefingId)
    {
        var from = MailboxAddress.Parse(_smtp.From);
        var message = new MimeMessage { Subject = digest.Subject };
        message.From.Add(from);
        message.To.Add(MailboxAddress.Parse(subscriber.Email));
        foreach (var (name, value) in digest.Headers)
        {
            message.Headers.Add(name, value);
        }

        // A stable id per (briefing, subscriber): if an operator ever resends, mail systems can recognise the duplicate.
        var idPart = new string(briefingId.Where(ch => char.IsAsciiLetterOrDigit(ch) || ch is '-' or '.').ToArray());
        message.MessageId = $"digest.{idPart}.{subscriber.Id}@{from.Domain}";
        message.Headers.Add("Auto-Submitted", "auto-generated");

        // Text first, HTML last: clients show the last part they can render.
        message.Body = new MultipartAlternative
        {
            new TextPart(TextFormat.Plain) { Text = digest.Text, ContentTransferEncoding = ContentEncoding.QuotedPrintable },
            new TextPart(TextFormat.Html) { Text = digest.Html, ContentTransferEncoding = ContentEncoding.QuotedPrintable },
        };
        return message;
    }

    private Dictionary<string, IReadOnlyList<string>> ArticleTickers(BriefingDocument briefing)
    {
        var ids = briefing.Sources.Where(s => s.ArticleId is not null).Select(s => s.ArticleId!).Distinct(StringComparer.Ordinal).ToList();
        return ids.Count == 0 ? [] : _store.GetArticles(ids).ToDictionary(a => a.Id, a => a.Tickers, StringComparer.Ordinal);
    }

    private static string Flatten(Exception ex)
    {
        var parts = new List<string>();
        for (var e = ex; e is not null; e = e.InnerException)
        {
            parts.Add(e.Message);
        }

        return string.Join(" -> ", parts.Distinct(StringComparer.Ordinal));
    }
}
