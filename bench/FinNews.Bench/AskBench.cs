using System.Diagnostics;
using System.Globalization;
using FinNews.Core.Briefing;
using FinNews.Core.Feeds;
using FinNews.Core.Models;
using Microsoft.Extensions.Logging.Abstractions;

namespace FinNews.Bench;

/// <summary>
/// `ask`: per question on the bundled sample day, the tool-using ask through Semantic Kernel against the loopback
/// <see cref="ScriptedModel"/> (tool calls, model calls, counted prompt tokens, latency), and the extractive answer
/// without a model (latency, abstained or not). Wall times include the loopback HTTP round trips, the tools' SQLite
/// and index work, token counting and the citation filter; no model time.
/// </summary>
internal static class AskBench
{
    private static readonly string[] Questions =
    [
        "How did Kelvane shares react to the Sorrel deal, and what did each outlet say?",
        "Why are Aurelian Motors recalling SUVs?",
        "What did the Bank of Japan decide?",
        "What happened to NVLX?",
        "What is the price of bitcoin?",
    ];

    public static async Task RunAsync(int runs, string dir)
    {
        var (store, index, watchlist) = await WriterBench.SamplesAsync(dir);
        using var indexScope = index;
        var relevance = new Relevance(new TickerTagger(watchlist));
        var validator = new CitationValidator(watchlist.Tickers.Select(t => t.Symbol));
        await using var model = await ScriptedModel.StartAsync();
        var profile = model.Profile();
        var kernel = ModelKernels.Build(profile, WriterBench.Clock, validator, relevance);
        var withModel = new AnswerService(index, store, store, kernel, profile, relevance, WriterBench.Clock, NullLogger<AnswerService>.Instance);
        var extractive = new AnswerService(index, store, store, null, null, relevance, WriterBench.Clock, NullLogger<AnswerService>.Instance);

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"loadavg at start: {File.ReadAllText("/proc/loadavg").Trim()}"));
        Console.WriteLine($"model path: {profile.Model} via the loopback scripted endpoint; prompt tokens counted with {ModelTokenizer.For(profile.Model).Encoding}; {runs} runs per question after 2 warm-up");
        foreach (var question in Questions)
        {
            Answer? answer = null;
            Answer? plain = null;
            var llm = new List<double>();
            var ext = new List<double>();
            for (var r = 0; r < runs + 2; r++)
            {
                var watch = Stopwatch.StartNew();
                answer = await withModel.AskAsync(question, null);
                var t1 = watch.Elapsed.TotalMilliseconds;
                watch.Restart();
                plain = await extractive.AskAsync(question, null);
                if (r >= 2)
                {
                    llm.Add(t1);
                    ext.Add(watch.Elapsed.TotalMilliseconds);
                }
            }

            llm.Sort();
            ext.Sort();
            Console.WriteLine();
            Console.WriteLine($"Q: {question}");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  kernel ask: tool calls {answer!.Tools!.Count} ({string.Join(", ", answer.Tools.Select(t => t.Tool))}), model calls {answer.ModelCalls}, counted prompt tokens {answer.PromptTokens} ({answer.TokenCount}), sources cited {answer.Sources.Count}, latency p50 {llm[llm.Count / 2]:0.0} ms p95 {llm[(int)(llm.Count * 0.95)]:0.0} ms"));
            Console.WriteLine($"    answer ({answer.Writer}): {Short(answer.Text)}");
            foreach (var d in answer.Dropped)
            {
                Console.WriteLine($"    dropped: {Short(d.Text)} ({string.Join("; ", d.Reasons)})");
            }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  extractive: {(plain!.Sentences.Count == 0 ? "abstains" : $"{plain.Sentences.Count} sentence(s)")}, latency p50 {ext[ext.Count / 2]:0.0} ms p95 {ext[(int)(ext.Count * 0.95)]:0.0} ms"));
            Console.WriteLine($"    answer: {Short(plain.Text)}");
        }

        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"requests served by the scripted endpoint: {model.Requests}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"loadavg at end: {File.ReadAllText("/proc/loadavg").Trim()}"));
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
    }

    private static string Short(string text) => text.Length <= 140 ? text : text[..140] + "…";
}
