using System.CommandLine;
using System.Globalization;
using FinNews.Core.Feeds;
using FinNews.Hosting;
using Spectre.Console;

namespace FinNews.Cli;

// `finnews feeds add|remove|list|status|pause|resume` and `finnews feed parse`.
public static partial class FinNewsCli
{
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

    internal sealed record FeedListing(FeedDefinition Feed, string Origin, FeedState? State);
}
