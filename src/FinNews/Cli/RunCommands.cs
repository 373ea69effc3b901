using System.CommandLine;
using FinNews.Hosting;

namespace FinNews.Cli;

// `finnews run`, `serve` and `worker`: the long-running roles.
public static partial class FinNewsCli
{
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
}
