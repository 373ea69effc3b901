using System.CommandLine;
using System.Globalization;
using FinNews.Core.Feeds;
using FinNews.Core.Storage;
using FinNews.Hosting;
using Microsoft.Extensions.Options;
using Spectre.Console;

namespace FinNews.Cli;

/// <summary>The `finnews` command line: one verb per role or tool.</summary>
public static class FinNewsCli
{
    private static readonly Option<string?> ConfigOption = new("--config")
    {
        Description = $"Config folder (default: ./config or a parent's, or ${AppPaths.ConfigVariable})",
        Recursive = true,
    };

    private static readonly Option<bool> VerboseOption = new("--verbose", "-v")
    {
        Description = "Show informational logs on the console",
        Recursive = true,
    };

    public static RootCommand Build()
    {
        var root = new RootCommand("FinNews: financial-news briefings with cited sources");
        root.Options.Add(ConfigOption);
        root.Options.Add(VerboseOption);
        root.Subcommands.Add(RunCommand());
        root.Subcommands.Add(ServeCommand());
        root.Subcommands.Add(WorkerCommand());
        root.Subcommands.Add(IngestCommand());
        root.Subcommands.Add(BriefCommand());
        root.Subcommands.Add(FeedsCommand());
        root.Subcommands.Add(FeedCommand());
        root.Subcommands.Add(StoriesCommand());
        return root;
    }

    private static Option<string?> UrlsOption() => new("--urls") { Description = "Listen URLs (default: Web:Urls, http://127.0.0.1:5080)" };

    private static Command RunCommand()
    {
        var urls = UrlsOption();
        var command = new Command("run", "Scheduler and web in one process (the embedded default): ingests, writes a briefing, serves it") { urls };
        command.SetAction((parse, ct) => Guard(async () =>
        {
            var app = AppHost.BuildWeb(Paths(parse), parse.GetValue(urls), withScheduler: true);
            await app.RunAsync(ct);
            return 0;
        }));
        return command;
    }

    private static Command ServeCommand()
    {
        var urls = UrlsOption();
        var command = new Command("serve", "Web pages and the HTTP API only") { urls };
        command.SetAction((parse, ct) => Guard(async () =>
        {
            var app = AppHost.BuildWeb(Paths(parse), parse.GetValue(urls), withScheduler: false);
            await app.RunAsync(ct);
            return 0;
        }));
        return command;
    }

    private static Command WorkerCommand()
    {
        var command = new Command("worker", "The scheduler only: feed polls, indexing, market data, scheduled briefings");
        command.SetAction((parse, ct) => Guard(async () =>
        {
            using var host = AppHost.BuildWorker(Paths(parse));
            await host.RunAsync(ct);
            return 0;
        }));
        return command;
    }

    private static Command IngestCommand()
    {
        var command = new Command("ingest", "One pass over all feeds and market-data files, then index what is new");
        command.SetAction((parse, ct) => Guard(async () =>
        {
            using var host = AppHost.BuildTool(Paths(parse), parse.GetValue(VerboseOption));
            var pipeline = host.Services.GetRequiredService<FinNewsPipeline>();
            var feeds = host.Services.GetRequiredService<FeedCatalog>().Load().Feeds.Where(f => f.Enabled).ToList();
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

            var store = host.Services.GetRequiredService<SqliteStore>();
            AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, $"{results.Sum(r => r.Counts?.Inserted ?? 0)} new articles; {store.CountArticles()} stored in {Markup.Escape(store.DatabasePath)}");
            return results.Count > 0 && results.All(r => r.Error is not null) ? 1 : 0;
        }));
        return command;
    }

    private static Command BriefCommand()
    {
        var asOf = new Option<string?>("--as-of") { Description = "Write the briefing as of this instant (ISO 8601); default now" };
        var command = new Command("brief", "Write a briefing now and print where it went") { asOf };
        command.SetAction((parse, ct) => Guard(async () =>
        {
            DateTimeOffset? instant = null;
            if (parse.GetValue(asOf) is { } text)
            {
                if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
                {
                    await Console.Error.WriteLineAsync($"--as-of '{text}' is not an ISO 8601 instant (e.g. 2026-11-20T18:00:00Z).");
                    return 2;
                }

                instant = parsed.ToUniversalTime();
            }

            using var host = AppHost.BuildTool(Paths(parse), parse.GetValue(VerboseOption));
            var (briefing, files) = await host.Services.GetRequiredService<FinNewsPipeline>().BriefAsync(instant, ct);
            Console.WriteLine($"Briefing {briefing.Id}: {briefing.Title}");
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

    private static Command FeedsCommand()
    {
        var json = new Option<bool>("--json") { Description = "Print JSON instead of a table" };
        var list = new Command("list", "The configured feeds with their fetch state") { json };
        list.SetAction((parse, ct) => Guard(() =>
        {
            using var host = AppHost.BuildTool(Paths(parse), parse.GetValue(VerboseOption));
            var feeds = host.Services.GetRequiredService<FeedCatalog>().Load().Feeds;
            var store = host.Services.GetRequiredService<SqliteStore>();
            var states = store.ListFeedStates().ToDictionary(s => s.Id, StringComparer.Ordinal);
            if (parse.GetValue(json))
            {
                var rows = feeds.Select(f => new FeedListing(f, states.GetValueOrDefault(f.Id))).ToList();
                Console.WriteLine(System.Text.Json.JsonSerializer.Serialize(rows, CliJsonContext.Default.ListFeedListing));
                return Task.FromResult(0);
            }

            var table = new Table().AddColumns("Id", "Name", "URL", "Every", "Last success", "Errors", "Last error");
            foreach (var f in feeds)
            {
                var s = states.GetValueOrDefault(f.Id);
                table.AddRow(Markup.Escape(f.Id) + (f.Sample ? " [grey](sample)[/]" : "") + (f.Enabled ? "" : " [grey](disabled)[/]"),
                    Markup.Escape(f.Name), Markup.Escape(f.Url), $"{f.IntervalMinutes} min",
                    s?.LastSuccessAt?.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) ?? "never",
                    (s?.ErrorCount ?? 0).ToString(CultureInfo.InvariantCulture), Markup.Escape(s?.LastError ?? ""));
            }

            AnsiConsole.Write(table);
            return Task.FromResult(0);
        }));
        var command = new Command("feeds", "Inspect the configured feeds");
        command.Subcommands.Add(list);
        return command;
    }

    private static Command FeedCommand()
    {
        var source = new Argument<string>("file-or-url") { Description = "A feed file, or an http(s) URL" };
        var json = new Option<bool>("--json") { Description = "Print the normalized feed as JSON" };
        var parseCommand = new Command("parse", "Parse one feed document and print it normalized") { source, json };
        parseCommand.SetAction((parse, ct) => FeedParseCommand.RunAsync(parse.GetValue(source)!, parse.GetValue(json), ct));
        var command = new Command("feed", "Work with a single feed document");
        command.Subcommands.Add(parseCommand);
        return command;
    }

    private static Command StoriesCommand()
    {
        var since = new Option<string>("--since") { Description = "How far back: 24h, 3d, 90m, or an ISO 8601 instant", DefaultValueFactory = _ => "24h" };
        var json = new Option<bool>("--json") { Description = "Print JSON instead of a table" };
        var all = new Option<bool>("--all") { Description = "Include stories carried by a single outlet" };
        var command = new Command("stories", "Stories (the same event across outlets) with the outlets that carried them") { since, json, all };
        command.SetAction((parse, ct) => Guard(() =>
        {
            using var host = AppHost.BuildTool(Paths(parse), parse.GetValue(VerboseOption));
            var text = parse.GetValue(since)!;
            if (!TryParseSince(text, host.Services.GetRequiredService<TimeProvider>().GetUtcNow(), out var from))
            {
                Console.Error.WriteLine($"--since '{text}' is neither a duration (24h, 3d, 90m) nor an ISO 8601 instant.");
                return Task.FromResult(2);
            }

            var stories = host.Services.GetRequiredService<SqliteStore>().ListStories(from)
                .Where(s => parse.GetValue(all) || s.Outlets.Count > 1).ToList();
            if (parse.GetValue(json))
            {
                var rows = stories.Select(s => new StoryListing(s.ClusterId, s.Headline, s.Outlets, s.Articles.Count, s.FirstPublished, s.LastPublished,
                    s.Articles.Select(a => new StoryArticle(a.Id, a.Outlet, a.Title, a.Url, a.PublishedAt)).ToList())).ToList();
                Console.WriteLine(System.Text.Json.JsonSerializer.Serialize(rows, CliJsonContext.Default.ListStoryListing));
                return Task.FromResult(0);
            }

            var table = new Table().AddColumns("Story", "Outlets", "Articles", "First", "Last");
            foreach (var s in stories)
            {
                table.AddRow(Markup.Escape(s.Headline), Markup.Escape(string.Join(", ", s.Outlets)), s.Articles.Count.ToString(CultureInfo.InvariantCulture),
                    s.FirstPublished.ToString("MM-dd HH:mm", CultureInfo.InvariantCulture), s.LastPublished.ToString("MM-dd HH:mm", CultureInfo.InvariantCulture));
            }

            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, $"{stories.Count} stories since {from:yyyy-MM-dd HH:mm} UTC");
            return Task.FromResult(0);
        }));
        return command;
    }

    /// <summary>"24h", "3d", "90m" back from now, or an absolute ISO 8601 instant.</summary>
    internal static bool TryParseSince(string text, DateTimeOffset now, out DateTimeOffset since)
    {
        since = default;
        if (text.Length >= 2 && int.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var n))
        {
            TimeSpan? span = char.ToLowerInvariant(text[^1]) switch
            {
                'm' => TimeSpan.FromMinutes(n),
                'h' => TimeSpan.FromHours(n),
                'd' => TimeSpan.FromDays(n),
                'w' => TimeSpan.FromDays(7 * n),
                _ => null,
            };
            if (span is { } s)
            {
                since = now - s;
                return true;
            }
        }

        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var instant))
        {
            since = instant.ToUniversalTime();
            return true;
        }

        return false;
    }

    private static AppPaths Paths(ParseResult parse) => AppPaths.Resolve(parse.GetValue(ConfigOption));

    private static string Num(int? n) => n?.ToString(CultureInfo.InvariantCulture) ?? "-";

    /// <summary>Turns configuration and data errors into a message and exit code 3 instead of a stack trace.</summary>
    private static async Task<int> Guard(Func<Task<int>> action)
    {
        try
        {
            return await action();
        }
        catch (Exception ex) when (ConfigurationErrors(ex) is { Count: > 0 } errors)
        {
            await Console.Error.WriteLineAsync("Configuration error:");
            foreach (var error in errors)
            {
                await Console.Error.WriteLineAsync($"  {error}");
            }

            return 3;
        }
    }

    /// <summary>The configuration problems inside an exception (validation, binding, config files), or none.</summary>
    internal static List<string> ConfigurationErrors(Exception ex) => ex switch
    {
        AggregateException a => a.InnerExceptions.SelectMany(ConfigurationErrors).ToList(),
        OptionsValidationException o => o.Failures.ToList(),
        InvalidDataException or DirectoryNotFoundException or FileNotFoundException => [ex.Message],
        // The configuration binder's conversion error names the key; its inner exception names the bad value.
        InvalidOperationException { Source: "Microsoft.Extensions.Configuration.Binder" } => [$"{ex.Message} {ex.InnerException?.Message}".Trim()],
        _ when ex.InnerException is { } inner => ConfigurationErrors(inner),
        _ => [],
    };

    internal sealed record FeedListing(FeedDefinition Feed, FeedState? State);

    internal sealed record StoryListing(string Id, string Headline, IReadOnlyList<string> Outlets, int Articles, DateTimeOffset FirstPublished,
        DateTimeOffset LastPublished, IReadOnlyList<StoryArticle> Items);

    internal sealed record StoryArticle(string Id, string Outlet, string Title, string Url, DateTimeOffset PublishedAt);
}
