using FinNews.Core.Briefing;
using FinNews.Core.Delivery;
using FinNews.Core.Feeds;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Quartz;

namespace FinNews.Jobs;

/// <summary>
/// Sends the digests that are due: fired every minute, it asks each subscriber's schedule (in their time zone)
/// whether a slot has come since the latest briefing was written; the send log makes each delivery happen once.
/// </summary>
/// <remarks>
/// One minute-tick job instead of one Quartz trigger per subscriber schedule: subscribers come and go at runtime
/// without rescheduling, time zones and daylight-saving changes are evaluated per subscriber on every tick, a slot
/// missed while the process was down is caught up on the first tick after start, and nothing depends on the
/// scheduler's job store surviving a restart (the in-memory store does not). With several worker nodes the ticks
/// overlap harmlessly: the UNIQUE claim in the send log lets exactly one of them send each delivery.
/// </remarks>
[DisallowConcurrentExecution]
public sealed class DigestJob(DigestSender sender, ILogger<DigestJob> logger) : IJob
{
    public static readonly JobKey Key = new("digest", "delivery");

    /// <summary>Every minute, at second 0.</summary>
    public const string TickSchedule = "0 * * * * ?";

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        var result = await sender.SendDueAsync(cancellationToken);
        if (result.Failed > 0)
        {
            logger.LogWarning("Digests for briefing {BriefingId}: {Failed} of {Due} failed", result.BriefingId, result.Failed, result.Due);
        }
    }
}

/// <summary>Registration of email digests: options, stores, renderer, sender, and the Quartz job.</summary>
public static class DeliveryRegistration
{
    /// <summary>Options "Smtp" and "Digest" (validated on start), the delivery store (tables created), renderer, SMTP transport and sender.</summary>
    public static void AddFinNewsDelivery(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.TryAddSingleton<DeliveryOptionsValidator>();
        services.AddOptions<SmtpOptions>().BindConfiguration("Smtp").ValidateOnStart();
        services.AddOptions<DigestOptions>().BindConfiguration("Digest").ValidateOnStart();
        services.AddSingleton<IValidateOptions<SmtpOptions>>(sp => sp.GetRequiredService<DeliveryOptionsValidator>());
        services.AddSingleton<IValidateOptions<DigestOptions>>(sp => sp.GetRequiredService<DeliveryOptionsValidator>());
        services.AddSingleton(sp => new DigestRenderer(Value<DigestOptions>(sp), Value<SmtpOptions>(sp).From));
        services.TryAddSingleton<IMailTransport>(sp => new SmtpMailTransport(Value<SmtpOptions>(sp)));
        services.AddSingleton(sp => new DigestSender(sp.GetRequiredService<IArticleStore>(), sp.GetRequiredService<IBriefingStore>(), sp.GetRequiredService<IDeliveryStore>(),
            sp.GetRequiredService<DigestRenderer>(), sp.GetRequiredService<IMailTransport>(), Value<SmtpOptions>(sp), Value<DigestOptions>(sp),
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<DigestSender>>()));
    }

    /// <summary>
    /// The digest job on a minute tick (inside <c>AddQuartz(q => ...)</c>). A missed tick is not replayed
    /// (<c>DoNothing</c>): the next tick finds the same due subscribers, because "due" is computed from the schedules,
    /// not from the trigger's fire time.
    /// </summary>
    public static void AddDigestJob(this IQuartzBuilder q)
    {
        ArgumentNullException.ThrowIfNull(q);
        q.AddJob<DigestJob>(j => j.WithIdentity(DigestJob.Key));
        q.AddTrigger(t => t.ForJob(DigestJob.Key).WithIdentity("digest-tick")
            .WithCronSchedule(DigestJob.TickSchedule, c => c.InTimeZone(TimeZoneInfo.Utc).WithMisfireInstruction(CronTriggerMisfireInstruction.DoNothing)));
    }

    private static T Value<T>(IServiceProvider sp) where T : class => sp.GetRequiredService<IOptions<T>>().Value;
}
