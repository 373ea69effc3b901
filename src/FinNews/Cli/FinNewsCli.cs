using System.CommandLine;
using System.Globalization;
using FinNews.Hosting;
using Microsoft.Extensions.Options;
using Spectre.Console;

namespace FinNews.Cli;

/// <summary>The `finnews` command line: one verb per role or tool.</summary>
/// <remarks>
/// This file holds the command tree and the helpers every verb shares; each verb group has its own file beside it
/// (RunCommands, IngestCommands, BriefCommands, FeedsCommands, SearchCommands, AskCommands, ExportCommands,
/// KeysCommands, SubscribersCommands, ModelsCommands, EvalCommands, MigrateCommand; TuneCommands for tune/models use/eval answers).
/// </remarks>
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
}
