using System.Diagnostics;
using System.Net;
using System.Text;
using FinNews.Core;
using FinNews.Core.Briefing;
using FinNews.Core.Delivery;
using FinNews.Core.Storage.Sqlite;
using FinNews.Hosting;
using FinNews.Jobs;
using FinNews.SystemTests.Support;
using FinNews.Tests.Support;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using MimeKit;
using Quartz;
using Xunit.Abstractions;

namespace FinNews.SystemTests.Delivery;

/// <summary>The scheduled digest path end to end: bundled samples → briefing → Quartz DigestJob → SmtpClient → aiosmtpd.</summary>
public class DigestDeliveryTests(ITestOutputHelper output)
{
    // The samples are dated 2026-11-20; the briefing is written the next morning.
    private static readonly DateTimeOffset Ingested = new(2026, 11, 20, 23, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Briefed = new(2026, 11, 21, 6, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task A_due_subscriber_receives_one_digest_with_citations_in_both_parts_and_nothing_again_after_a_restart()
    {
        var watch = Stopwatch.StartNew();
        using var env = TestEnvironment.Create();
        await using var smtp = await SmtpServer.StartAsync(env.Root);
        Configure(env, smtp.Port);
        var clock = new ManualTimeProvider(Ingested);

        BriefingDocument briefing;
        Subscriber ann;
        using (var host = BuildHost(env, clock))
        {
            var pipeline = host.Services.GetRequiredService<FinNewsPipeline>();
            await pipeline.IngestAsync(null, CancellationToken.None);
            clock.Now = Briefed;
            (briefing, _) = await pipeline.BriefAsync(null, CancellationToken.None);
            var delivery = host.Services.GetRequiredService<SqliteDeliveryStore>();
            clock.Now = Briefed.AddMinutes(1);
            // 07:00 in New York is 12:00 UTC in November; 07:00 in Tokyo (22:00 UTC) has not come by 12:01 UTC.
            ann = delivery.AddSubscriber(new NewSubscriber("ann@example.com", "America/New_York", "daily 07:00"));
            delivery.AddSubscriber(new NewSubscriber("kenji@example.jp", "Asia/Tokyo", "daily 07:00"));

            clock.Now = new DateTimeOffset(2026, 11, 21, 11, 59, 0, TimeSpan.Zero);
            await RunDigestJobAsync(host);
            smtp.Messages.Should().BeEmpty("no subscriber's slot has come before 12:00 UTC");

            clock.Now = new DateTimeOffset(2026, 11, 21, 12, 1, 0, TimeSpan.Zero);
            await RunDigestJobAsync(host);
        }

        var messages = await smtp.WaitForMessagesAsync(1, TimeSpan.FromSeconds(5));
        messages.Should().ContainSingle();
        using var mail = MimeMessage.Load(new MemoryStream(Encoding.UTF8.GetBytes(messages[0])));
        output.WriteLine(messages[0][..Math.Min(messages[0].Length, 3000)]);
        mail.To.Mailboxes.Select(m => m.Address).Should().Equal("ann@example.com");
        mail.From.Mailboxes.Single().Address.Should().Be("digest@finnews.example");
        mail.Subject.Should().NotBeNullOrEmpty();
        mail.Headers["List-Unsubscribe"].Should().Be(
            $"<mailto:digest@finnews.example?subject=unsubscribe%20{ann.UnsubscribeToken}>, <https://finnews.example/unsubscribe/{ann.UnsubscribeToken}>");
        mail.Headers["List-Unsubscribe-Post"].Should().Be("List-Unsubscribe=One-Click");
        mail.Body.Should().BeOfType<MultipartAlternative>();
        var text = mail.BodyParts.OfType<TextPart>().Single(p => p.IsPlain).Text;
        var html = mail.BodyParts.OfType<TextPart>().Single(p => p.IsHtml).Text;
        var cited = briefing.Sections.SelectMany(s => s.Bullets).SelectMany(b => b.Citations).Distinct().ToList();
        cited.Should().NotBeEmpty();
        foreach (var n in cited)
        {
            var source = briefing.Source(n)!;
            // The bundled day is sample data: each of its outlets says so.
            source.Sample.Should().BeTrue();
            text.Should().Contain($"[{n}] {source.Outlet} (sample): {source.Title}");
            html.Should().Contain($"data-source=\"{n}\"").And.Contain($"id=\"src-{n}\"").And.Contain(WebUtility.HtmlEncode(source.Outlet).Replace("&#39;", "&#x27;", StringComparison.Ordinal));
        }

        text.Should().Contain("Sample data: this briefing is built from the bundled sample feeds");
        html.Should().Contain("class=\"sample-banner\"").And.Contain("class=\"sample-badge\"");

        text.Should().Contain($"Unsubscribe: https://finnews.example/unsubscribe/{ann.UnsubscribeToken}");
        html.Should().Contain($"href=\"https://finnews.example/unsubscribe/{ann.UnsubscribeToken}\"");

        // Restart: a new host over the same database, later the same day; the job must send nothing.
        SqliteConnection.ClearAllPools();
        clock.Now = new DateTimeOffset(2026, 11, 21, 12, 30, 0, TimeSpan.Zero);
        using (var restarted = BuildHost(env, clock))
        {
            await RunDigestJobAsync(restarted);
            var log = restarted.Services.GetRequiredService<SqliteDeliveryStore>().ListSendLog(briefing.Id);
            log.Should().ContainSingle().Which.Should().Match<SendLogEntry>(e => e.Email == "ann@example.com" && e.Status == SendStatus.Sent && e.Attempts == 1);
        }

        await Task.Delay(300);
        smtp.Messages.Should().HaveCount(1, "a subscriber never gets the same briefing twice, also across restarts");
        output.WriteLine($"digest system test: {watch.ElapsedMilliseconds} ms");
    }

    [Fact]
    public async Task An_unreachable_mail_server_is_retried_then_recorded_as_a_failure()
    {
        using var env = TestEnvironment.Create();
        int closedPort;
        using (var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            closedPort = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        Configure(env, closedPort);
        var clock = new ManualTimeProvider(Ingested);
        using var host = BuildHost(env, clock);
        var pipeline = host.Services.GetRequiredService<FinNewsPipeline>();
        await pipeline.IngestAsync(null, CancellationToken.None);
        clock.Now = Briefed;
        var (briefing, _) = await pipeline.BriefAsync(null, CancellationToken.None);
        var delivery = host.Services.GetRequiredService<SqliteDeliveryStore>();
        delivery.AddSubscriber(new NewSubscriber("ann@example.com", "UTC", "daily 07:00"));
        clock.Now = Briefed.AddHours(2);

        var result = await host.Services.GetRequiredService<DigestSender>().SendDueAsync(CancellationToken.None);

        result.Failed.Should().Be(1);
        var problem = delivery.ListProblems(TimeSpan.FromMinutes(5)).Should().ContainSingle().Subject;
        problem.BriefingId.Should().Be(briefing.Id);
        problem.Attempts.Should().Be(2);
        problem.LastError.Should().NotBeNullOrWhiteSpace();
        output.WriteLine(problem.LastError);
    }

    private static void Configure(TestEnvironment env, int port)
    {
        env.SetSetting("Briefing:LookbackHours", 36);
        env.SetSetting("Smtp:Host", "127.0.0.1");
        env.SetSetting("Smtp:Port", port);
        env.SetSetting("Smtp:From", "FinNews <digest@finnews.example>");
        env.SetSetting("Smtp:TimeoutSeconds", 10);
        env.SetSetting("Digest:BaseUrl", "https://finnews.example");
        env.SetSetting("Digest:RetryAttempts", 2);
        env.SetSetting("Digest:RetryBaseDelaySeconds", 0.1);
    }

    /// <summary>The app's services as `worker` composes them, plus delivery and the digest job (not started: the test triggers it).</summary>
    private static IHost BuildHost(TestEnvironment env, TimeProvider clock) => AppHost.BuildTool(env.Paths, clock, verbose: false, b =>
    {
        b.AddFinNewsDelivery();
        b.Services.AddQuartz(q => q.AddDigestJob());
    });

    /// <summary>Fires the Quartz DigestJob now (as its minute trigger would) and waits for it to finish.</summary>
    private static async Task RunDigestJobAsync(IHost host)
    {
        var scheduler = await host.Services.GetRequiredService<ISchedulerFactory>().GetScheduler();
        var done = new JobDone();
        scheduler.ListenerManager.AddJobListener(done, [GroupMatcher<JobKey>.GroupEquals(DigestJob.Key.Group)]);
        await scheduler.PauseTrigger(new TriggerKey("digest-tick")); // only the explicit run below
        await scheduler.Start();
        await scheduler.TriggerJob(DigestJob.Key);
        var error = await done.Completion.Task.WaitAsync(TimeSpan.FromSeconds(30));
        scheduler.ListenerManager.RemoveJobListener(done.Name);
        await scheduler.Standby();
        error.Should().BeNull("the digest job must not throw");
    }

    private sealed class JobDone : IJobListener
    {
        public string Name { get; } = "test-done-" + Guid.NewGuid().ToString("N");

        public TaskCompletionSource<JobExecutionException?> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public ValueTask JobToBeExecuted(IJobExecutionContext context, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public ValueTask JobExecutionVetoed(IJobExecutionContext context, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public ValueTask JobWasExecuted(IJobExecutionContext context, JobExecutionException? jobException, CancellationToken cancellationToken = default)
        {
            Completion.TrySetResult(jobException);
            return ValueTask.CompletedTask;
        }
    }
}
