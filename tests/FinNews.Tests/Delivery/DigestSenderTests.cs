using FinNews.Core.Delivery;
using FinNews.Core.Storage.Sqlite;
using FinNews.Tests.Support;
using MailKit.Net.Smtp;
using Microsoft.Extensions.Logging.Abstractions;
using MimeKit;

namespace FinNews.Tests.Delivery;

public sealed class DigestSenderTests : IDisposable
{
    private readonly TestEnvironment _env = TestEnvironment.Create();
    private readonly ManualTimeProvider _clock = new(DigestTestData.Written.AddDays(-5));
    private readonly SqliteStore _store;
    private readonly SqliteDeliveryStore _delivery;

    public DigestSenderTests()
    {
        _store = new SqliteStore(_env.DatabasePath);
        _store.Initialize();
        _delivery = new SqliteDeliveryStore(_store.ConnectionString, _clock);
        _delivery.Initialize();
        _store.SaveBriefing(DigestTestData.Briefing());
    }

    public void Dispose() => _env.Dispose();

    private DigestSender Sender(IMailTransport transport, int attempts = 3) => new(_store, _store, _delivery, DigestTestData.Renderer(), transport,
        new SmtpOptions { From = "FinNews <digest@news.example>" }, new DigestOptions { RetryAttempts = attempts, RetryBaseDelaySeconds = 0.01 },
        _clock, NullLogger<DigestSender>.Instance);

    [Fact]
    public async Task A_due_subscriber_gets_the_latest_briefing_once_as_text_and_html_alternatives()
    {
        var ann = _delivery.AddSubscriber(new NewSubscriber("ann@example.com", "UTC", "daily 07:00"));
        var transport = new RecordingTransport();
        _clock.Now = DigestTestData.Written.AddMinutes(30);
        (await Sender(transport).SendDueAsync(default)).Should().Be(new DigestRunResult("b-2026-11-21", 0, 0, 0, 0), "06:30 is before the 07:00 slot");

        _clock.Now = DigestTestData.Written.AddHours(1);
        var first = await Sender(transport).SendDueAsync(default);
        var second = await Sender(transport).SendDueAsync(default);

        first.Should().Be(new DigestRunResult("b-2026-11-21", 1, 1, 0, 0));
        second.Due.Should().Be(0);
        var message = transport.Messages.Should().ContainSingle().Subject;
        message.To.Mailboxes.Single().Address.Should().Be("ann@example.com");
        message.Body.Should().BeOfType<MultipartAlternative>();
        message.BodyParts.Select(p => p.ContentType.MimeType).Should().Equal("text/plain", "text/html");
        message.MessageId.Should().Be($"digest.b-2026-11-21.{ann.Id}@news.example");
        message.Headers["List-Unsubscribe-Post"].Should().Be("List-Unsubscribe=One-Click");
        message.Headers["List-Unsubscribe"].Should().Contain($"/unsubscribe/{ann.UnsubscribeToken}>");
        _delivery.GetSendLog(ann.Id, "b-2026-11-21")!.Status.Should().Be(SendStatus.Sent);
    }

    [Fact]
    public async Task A_transient_failure_is_retried_with_backoff_until_it_succeeds()
    {
        var ann = _delivery.AddSubscriber(new NewSubscriber("ann@example.com"));
        var transport = new RecordingTransport { FailuresBeforeSuccess = 2 };
        _clock.Now = DigestTestData.Written.AddHours(1);

        var result = await Sender(transport, attempts: 3).SendDueAsync(default);

        result.Sent.Should().Be(1);
        transport.Calls.Should().Be(3);
        var entry = _delivery.GetSendLog(ann.Id, "b-2026-11-21")!;
        entry.Status.Should().Be(SendStatus.Sent);
        entry.Attempts.Should().Be(3);
    }

    [Fact]
    public async Task When_every_attempt_fails_the_failure_is_recorded_visible_and_not_retried_by_later_runs()
    {
        var ann = _delivery.AddSubscriber(new NewSubscriber("ann@example.com"));
        var transport = new RecordingTransport { FailuresBeforeSuccess = 99 };
        _clock.Now = DigestTestData.Written.AddHours(1);

        var result = await Sender(transport, attempts: 2).SendDueAsync(default);
        await Sender(transport, attempts: 2).SendDueAsync(default);

        result.Failed.Should().Be(1);
        transport.Calls.Should().Be(2);
        var problem = _delivery.ListProblems(TimeSpan.FromMinutes(10)).Should().ContainSingle().Subject;
        problem.SubscriberId.Should().Be(ann.Id);
        problem.Status.Should().Be(SendStatus.Failed);
        problem.Attempts.Should().Be(2);
        problem.LastError.Should().Contain("421").And.Contain("Service not available");
    }

    [Fact]
    public async Task A_permanent_smtp_error_is_not_retried()
    {
        _delivery.AddSubscriber(new NewSubscriber("ann@example.com"));
        var transport = new RecordingTransport { Throw = () => new SmtpCommandException(SmtpErrorCode.RecipientNotAccepted, SmtpStatusCode.MailboxUnavailable, new MailboxAddress(null, "ann@example.com"), "Mailbox unavailable") };
        _clock.Now = DigestTestData.Written.AddHours(1);

        (await Sender(transport, attempts: 5).SendDueAsync(default)).Failed.Should().Be(1);

        transport.Calls.Should().Be(1);
    }

    [Fact]
    public async Task Filters_that_match_nothing_skip_the_mail_and_inactive_subscribers_get_nothing()
    {
        var picky = _delivery.AddSubscriber(new NewSubscriber("picky@example.com", Tickers: ["ZZZZ"]));
        var gone = _delivery.AddSubscriber(new NewSubscriber("gone@example.com"));
        _delivery.Unsubscribe(gone.UnsubscribeToken);
        var transport = new RecordingTransport();
        _clock.Now = DigestTestData.Written.AddHours(1);

        var result = await Sender(transport).SendDueAsync(default);

        result.Should().Be(new DigestRunResult("b-2026-11-21", 1, 0, 0, 1));
        transport.Calls.Should().Be(0);
        _delivery.GetSendLog(picky.Id, "b-2026-11-21")!.Status.Should().Be(SendStatus.Skipped);
        _delivery.GetSendLog(gone.Id, "b-2026-11-21").Should().BeNull();
    }

    private sealed class RecordingTransport : IMailTransport
    {
        public List<MimeMessage> Messages { get; } = [];

        public int Calls { get; private set; }

        public int FailuresBeforeSuccess { get; init; }

        public Func<Exception>? Throw { get; init; }

        public Task SendAsync(MimeMessage message, CancellationToken cancellationToken)
        {
            Calls++;
            if (Throw is not null)
            {
                throw Throw();
            }

            if (Calls <= FailuresBeforeSuccess)
            {
                throw new SmtpCommandException(SmtpErrorCode.MessageNotAccepted, SmtpStatusCode.ServiceNotAvailable, "Service not available, try later");
            }

            Messages.Add(message);
            return Task.CompletedTask;
        }
    }
}
