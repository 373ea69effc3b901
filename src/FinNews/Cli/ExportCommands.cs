using System.CommandLine;
using FinNews.Core.Briefing;
using FinNews.Hosting;
using Microsoft.Extensions.Options;

namespace FinNews.Cli;

// `finnews export`.
public static partial class FinNewsCli
{
    private static Command ExportCommand()
    {
        var format = new Option<string>("--format") { Description = "pdf, html or md", DefaultValueFactory = _ => "pdf" };
        var id = new Option<string?>("--id") { Description = "Briefing id (default: the latest)" };
        var output = new Option<string?>("--output", "-o") { Description = "Output file (default: data/exports/<id>.<format>)" };
        var command = new Command("export", "Export a stored briefing as PDF (headless Chromium), HTML or Markdown") { format, id, output };
        command.SetAction((parse, ct) => Guard(async () =>
        {
            var fmt = parse.GetValue(format)!.ToLowerInvariant();
            if (fmt is not ("pdf" or "html" or "md"))
            {
                await Console.Error.WriteLineAsync($"--format '{fmt}' must be pdf, html or md.");
                return 2;
            }

            using var host = AppHost.BuildTool(Paths(parse), Clock, parse.GetValue(VerboseOption));
            var store = host.Services.GetRequiredService<IBriefingStore>();
            var briefing = parse.GetValue(id) is { } wanted ? store.GetBriefing(wanted) : store.LatestBriefing();
            if (briefing is null)
            {
                if (parse.GetValue(id) is { } missing)
                {
                    await Console.Error.WriteLineAsync($"No briefing with id '{missing}' (see /briefings or /api/v1/briefings).");
                    return 2;
                }

                await Console.Error.WriteLineAsync("No briefing yet; run `finnews brief` first.");
                return 1;
            }

            var data = DataDirectory(host);
            var path = Path.GetFullPath(parse.GetValue(output) ?? Path.Combine(data, "exports", $"{briefing.Id}.{fmt}"));
            if (Directory.Exists(path))
            {
                await Console.Error.WriteLineAsync($"-o '{path}' is a folder; name the file to write (e.g. {Path.Combine(path, $"{briefing.Id}.{fmt}")}).");
                return 2;
            }

            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            // A file has no site around it: links to the site's pages go under Web:PublicBaseUrl, or become plain text.
            var links = FinNews.Core.Briefing.SiteLinks.Standalone(host.Services.GetRequiredService<IOptions<WebOptions>>().Value.PublicBaseUrl);
            var html = FinNews.Core.Briefing.BriefingRenderer.ToHtmlDocument(briefing, FinNews.Core.Briefing.BriefingPublisher.Css, links);
            switch (fmt)
            {
                case "md":
                    await File.WriteAllTextAsync(path, FinNews.Core.Briefing.BriefingRenderer.ToMarkdown(briefing, links), ct);
                    break;
                case "html":
                    await File.WriteAllTextAsync(path, html, ct);
                    break;
                default:
                    var error = await PdfExport.PrintAsync(html, path, ct);
                    if (error is not null)
                    {
                        await Console.Error.WriteLineAsync($"PDF export failed: {error}");
                        return 1;
                    }

                    break;
            }

            Console.WriteLine(path);
            return 0;
        }));
        return command;
    }
}
