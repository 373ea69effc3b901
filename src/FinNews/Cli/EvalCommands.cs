using System.CommandLine;
using FinNews.Core.Search;
using FinNews.Hosting;
using Spectre.Console;

namespace FinNews.Cli;

// `finnews eval retrieval` (and `eval answers`, in TuneCommands).
public static partial class FinNewsCli
{
    private static Command EvalCommand()
    {
        var dataset = new Option<string>("--dataset") { Description = "A BEIR-format folder (corpus.jsonl, queries.jsonl, qrels/test.tsv)", Required = true };
        var embedders = new Option<string[]>("--embedder") { Description = "hashing, arctic and/or glove (repeatable; default hashing)", AllowMultipleArgumentsPerToken = true };
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
                    ArcticEmbedder.ProviderName => new ArcticEmbedder(),
                    "glove" when GloveInstaller.IsInstalled(data) => GloveEmbedder.Load(GloveInstaller.ModelPath(data)),
                    "glove" => throw new InvalidDataException("GloVe is not installed; run `finnews models install glove` first."),
                    _ => throw new InvalidDataException($"--embedder '{name}' is unknown (available: hashing, arctic, glove)."),
                };
                // Progress on stderr as it happens (indexing a corpus takes a while); the report alone goes to stdout.
                var progress = new LineProgress(line => Console.Error.WriteLine($"[{name}] {line}"));
                reports.Add(await FinNews.Core.Search.Evaluation.RetrievalEvaluator.EvaluateFolderAsync(folder, embedder, name,
                    new FinNews.Core.Search.Evaluation.RetrievalEvaluationOptions
                    {
                        Progress = progress,
                        Index = SqliteSearchIndexOptions.DefaultsFor(name),
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

    /// <summary>Reports progress lines at once, in order, on the caller's thread (Progress&lt;T&gt; would post them later).</summary>
    private sealed class LineProgress(Action<string> write) : IProgress<string>
    {
        public void Report(string value) => write(value);
    }
}
