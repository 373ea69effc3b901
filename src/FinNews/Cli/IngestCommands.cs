using System.CommandLine;
using System.Globalization;
using FinNews.Core;
using FinNews.Core.Feeds;
using FinNews.Hosting;
using Microsoft.Extensions.Options;
using Spectre.Console;

namespace FinNews.Cli;

// `finnews ingest [--backfill]`.
public static partial class FinNewsCli
{
    private static Command IngestCommand()
    {
        var backfill = new Option<bool>("--backfill")
        {
            Description = $"Import history instead of polling: items are taken as first seen {BackfillRule.Describe} and marked as imported, so as-of briefings of their days are possible and say so",
        };
        var file = new Option<string?>("--file") { Description = "With --backfill: an archived feed document (RSS, Atom, JSON Feed) to import for --feed" };
        var feedOption = new Option<string?>("--feed") { Description = "With --backfill: only this feed (required with --file)" };
        var command = new Command("ingest", "One pass over all feeds and market-data files, then index what is new") { backfill, file, feedOption };
        command.SetAction((parse, ct) => Guard(async () =>
        {
            if (parse.GetValue(backfill))
            {
                return await BackfillAsync(parse, parse.GetValue(feedOption), parse.GetValue(file), ct);
            }

            if (parse.GetValue(file) is not null || parse.GetValue(feedOption) is not null)
            {
                await Console.Error.WriteLineAsync("--file and --feed go with --backfill.");
                return 2;
            }

            // While the progress bar draws, log lines would tear it and repeat what the result table says: the console
            // shows errors only (everything still goes to the log file); -v keeps the informational log.
            var verbose = parse.GetValue(VerboseOption);
            using var host = AppHost.BuildTool(Paths(parse), Clock, verbose,
                verbose || Console.IsErrorRedirected ? null : b => AppHost.SetConsoleLogLevel(b, "Error"));
            var pipeline = host.Services.GetRequiredService<FinNewsPipeline>();
            var feeds = host.Services.GetRequiredService<FeedCatalog>().Feeds().Where(f => f.Enabled).ToList();
            IReadOnlyList<FeedRunResult> results = [];
            await AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                .StartAsync(async ctx =>
                {
                    var task = ctx.AddTask("Feeds", maxValue: feeds.Count);
                    results = await pipeline.IngestAsync(r =>
                    {
                        task.Increment(1);
                        task.Description = $"Feeds ({Markup.Escape(r.FeedId)})";
                    }, ct);
                    task.Description = "Feeds";
                });
            var table = new Table().AddColumns("Feed", "Items", "New", "Updated", "Duplicates", "Status");
            foreach (var r in results)
            {
                table.AddRow(Markup.Escape(r.FeedId), Num(r.Items), Num(r.Counts?.Inserted), Num(r.Counts?.Updated), Num(r.Counts?.Duplicates),
                    r.Error is null ? (r.NotModified ? "not modified" : "[green]ok[/]") : "[red]failed[/]");
            }

            AnsiConsole.Write(table);
            foreach (var failed in results.Where(r => r.Error is not null))
            {
                AnsiConsole.MarkupLine($"[red]{Markup.Escape(failed.FeedId)}[/]: {Markup.Escape(failed.Error!)}");
            }

            var store = host.Services.GetRequiredService<IArticleStore>();
            AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, $"{results.Sum(r => r.Counts?.Inserted ?? 0)} new articles; {store.CountArticles()} stored in {Markup.Escape(host.Services.GetRequiredService<StorageLocation>().Display)}");
            return results.Count > 0 && results.All(r => r.Error is not null) ? 1 : 0;
        }));
        return command;
    }

    private static async Task<int> BackfillAsync(ParseResult parse, string? feedId, string? file, CancellationToken ct)
    {
        if (file is not null && feedId is null)
        {
            await Console.Error.WriteLineAsync("--file needs --feed: name the feed the archive belongs to.");
            return 2;
        }

        using var host = AppHost.BuildTool(Paths(parse), Clock, parse.GetValue(VerboseOption));
        var feeds = host.Services.GetRequiredService<FeedCatalog>().Feeds().Where(f => feedId is null ? f.Enabled : f.Id == feedId).ToList();
        if (feeds.Count == 0)
        {
            await Console.Error.WriteLineAsync(feedId is null ? "No enabled feeds to backfill." : $"No feed '{feedId}' (see finnews feeds list).");
            return 2;
        }

        byte[]? archive = null;
        if (file is not null)
        {
            var path = Path.GetFullPath(file);
            if (!File.Exists(path))
            {
                await Console.Error.WriteLineAsync($"--file '{path}': no such file.");
                return 2;
            }

            archive = await FeedFetcher.ReadFileCappedAsync(path, host.Services.GetRequiredService<IOptions<FetchOptions>>().Value.MaxBodyBytes, $"--file '{path}'", ct);
        }

        Console.WriteLine($"Backfill: imported items are taken as first seen {BackfillRule.Describe}; items without a date are skipped.");
        var results = await host.Services.GetRequiredService<FinNewsPipeline>().BackfillAsync(feeds, archive, ct);
        var table = new Table().AddColumns("Feed", "Items", "Imported", "Already stored", "No date", "Status");
        foreach (var (id, result, error) in results)
        {
            table.AddRow(Markup.Escape(id), Num(result?.Items), Num(result?.Counts.Inserted), Num(result?.Counts.Duplicates + result?.Counts.Updated),
                Num(result?.Undated), error is null ? "ok" : "[red]failed[/]: " + Markup.Escape(error));
        }

        AnsiConsole.Write(table);
        return results.All(r => r.Error is not null) ? 1 : 0;
    }
}
