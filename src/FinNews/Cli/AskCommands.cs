using System.CommandLine;
using System.Globalization;
using FinNews.Hosting;
using Spectre.Console;

namespace FinNews.Cli;

// `finnews ask`.
public static partial class FinNewsCli
{
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
}
