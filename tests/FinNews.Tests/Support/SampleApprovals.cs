using FinNews.Core;
using FinNews.Core.Briefing;
using FinNews.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace FinNews.Tests.Support;

/// <summary>
/// The analyst approvals of the bundled sample day, made as the pages make them: the samples are ingested, briefings
/// are written by the (extractive) writer as of several instants of 2026-11-20 and the morning after, every one is
/// approved, and one is edited first (a statement reworded with the same figures) and approved after the edit.
/// </summary>
public static class SampleApprovals
{
    /// <summary>The instants the briefings cover, oldest first.</summary>
    public static readonly DateTimeOffset[] AsOf =
    [
        new(2026, 11, 20, 8, 0, 0, TimeSpan.Zero),
        new(2026, 11, 20, 11, 30, 0, TimeSpan.Zero),
        new(2026, 11, 20, 13, 0, 0, TimeSpan.Zero),
        new(2026, 11, 20, 15, 0, 0, TimeSpan.Zero),
        new(2026, 11, 20, 17, 0, 0, TimeSpan.Zero),
        new(2026, 11, 20, 19, 0, 0, TimeSpan.Zero),
        new(2026, 11, 20, 21, 30, 0, TimeSpan.Zero),
        TestEnvironment.MorningAfterSamples,
    ];

    /// <summary>When the samples are ingested: before the first briefing, so each briefing sees the news published by then.</summary>
    public static readonly DateTimeOffset IngestedAt = new(2026, 11, 20, 7, 0, 0, TimeSpan.Zero);

    /// <summary>Ingests the samples into <paramref name="env"/>'s store and approves a briefing per instant; returns their ids.</summary>
    public static async Task<IReadOnlyList<string>> CreateAsync(TestEnvironment env)
    {
        // The day as it happened: ingested early, each briefing written just after the instant it covers.
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(IngestedAt);
        using var host = AppHost.BuildTool(env.Paths, clock, verbose: false);
        var pipeline = host.Services.GetRequiredService<FinNewsPipeline>();
        var store = host.Services.GetRequiredService<IBriefingStore>();
        await pipeline.IngestAsync(null, CancellationToken.None);
        var ids = new List<string>();
        foreach (var at in AsOf)
        {
            clock.SetUtcNow(at + TimeSpan.FromMinutes(1));
            var (briefing, _) = await pipeline.BriefAsync(at, CancellationToken.None);
            ids.Add(briefing.Id);
        }

        // An analyst rewords the first statement of the last briefing (same figures, so it keeps its citations).
        var last = store.GetBriefing(ids[^1])!;
        var section = last.Sections.First(s => s.Bullets.Count > 0);
        var edited = section.Bullets[0] with { Text = "Analyst wording: " + section.Bullets[0].Text };
        store.SaveEditedBriefing(last with
        {
            Sections = last.Sections.Select(s => s.Key == section.Key ? s with { Bullets = [edited, .. s.Bullets.Skip(1)] } : s).ToList(),
        });
        foreach (var id in ids)
        {
            store.ApproveBriefing(id, "analyst@example.com", clock.GetUtcNow());
        }

        return ids;
    }
}
