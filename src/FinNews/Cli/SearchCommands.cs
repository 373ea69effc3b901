using System.CommandLine;
using System.Globalization;
using FinNews.Core.Feeds;
using FinNews.Core.Search;
using FinNews.Hosting;
using Microsoft.Extensions.Options;
using Spectre.Console;

namespace FinNews.Cli;

// `finnews search`, `reindex` and `stories`.
public static partial class FinNewsCli
{
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
            if (!ArticleSearch.TryMode(parse.GetValue(mode), out var m))
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
            var results = await ArticleSearch.SearchAsync(host.Services.GetRequiredService<FinNews.Core.Search.ISearchIndex>(),
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

    internal sealed record StoryListing(string Id, string Headline, IReadOnlyList<string> Outlets, int Articles, DateTimeOffset FirstPublished,
        DateTimeOffset LastPublished, IReadOnlyList<StoryArticle> Items);

    internal sealed record StoryArticle(string Id, string Outlet, string Title, string Url, DateTimeOffset PublishedAt);
}
