using System.CommandLine;
using System.Globalization;
using FinNews.Core;
using FinNews.Core.Briefing;
using FinNews.Hosting;
using Spectre.Console;

namespace FinNews.Cli;

// `finnews brief`.
public static partial class FinNewsCli
{
    private static Command BriefCommand()
    {
        var asOf = new Option<string?>("--as-of") { Description = "Write the briefing as of this instant (ISO 8601); default now" };
        var command = new Command("brief", "Write a briefing now and print where it went") { asOf };
        command.SetAction((parse, ct) => Guard(async () =>
        {
            if (!TryParseAsOf(parse.GetValue(asOf), out var instant))
            {
                return 2;
            }

            using var host = AppHost.BuildTool(Paths(parse), Clock, parse.GetValue(VerboseOption));
            var (briefing, files) = await host.Services.GetRequiredService<FinNewsPipeline>().BriefAsync(instant, ct);
            Console.WriteLine($"Briefing {briefing.Id}: {briefing.Title}");
            var versions = host.Services.GetRequiredService<IBriefingStore>().BriefingVersions(briefing.Edition);
            if (versions.Count > 1)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"Version {versions[0].Version} of the {versions[0].Edition} edition: it replaces {string.Join(", ", versions.Skip(1).Select(v => v.Id))} as that day's briefing."));
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{briefing.Sections.Sum(s => s.Bullets.Count)} statements citing {briefing.Sources.Count} sources, {briefing.WindowStart:yyyy-MM-dd HH:mm} to {briefing.WindowEnd:yyyy-MM-dd HH:mm} UTC ({briefing.Writer} writer)"));
            foreach (var note in briefing.Notes)
            {
                Console.WriteLine($"Note: {note}");
            }

            foreach (var file in files)
            {
                Console.WriteLine(file);
            }

            return 0;
        }));
        return command;
    }
}
