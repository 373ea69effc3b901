using Xunit.Abstractions;
using System.Text.Json;
using FinNews.Core;
using FinNews.Core.Briefing;
using FinNews.Core.Models;
using FinNews.Core.Tuning;
using FinNews.Hosting;
using FinNews.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace FinNews.Tests.Tuning;

/// <summary>
/// `finnews eval answers` offline on the samples: the extractive answers and two scripted OpenAI-compatible models on
/// loopback (no hosted model exists here; they reply in OpenAI's documented chat-completion shapes). The tuned slot holds
/// a model that follows the house style but invents figures; the base slot one that ignores the style.
/// </summary>
public class EvalAnswersTests(ITestOutputHelper output)
{
    [Fact]
    public async Task The_table_shows_closed_book_fails_freshness_retrieval_lifts_faithfulness_and_the_validator_catches_invented_figures()
    {
        using var env = TestEnvironment.Create();
        using (var host = AppHost.BuildTool(env.Paths, env.Clock, verbose: false))
        {
            await host.Services.GetRequiredService<FinNewsPipeline>().IngestAsync(null, CancellationToken.None);
        }

        await using var inventor = await ScriptedAnswerModel.StartAsync(AnswerPolicy.StyledInventor);
        await using var ignorer = await ScriptedAnswerModel.StartAsync(AnswerPolicy.StyleIgnorer);
        await File.WriteAllTextAsync(Path.Combine(env.ConfigDirectory, "models.json"), $$"""
            {
              "profiles": {
                "briefing": { "enabled": true, "endpoint": "{{inventor.Endpoint}}", "model": "gpt-4o-mini-2024-07-18", "maxRetries": 0,
                              "inputPricePerMillionTokens": 0.30, "outputPricePerMillionTokens": 1.20, "trainingCutoff": "2023-10-01" },
                "base": { "enabled": true, "endpoint": "{{ignorer.Endpoint}}", "model": "gpt-4o-mini-2024-07-18", "maxRetries": 0,
                          "inputPricePerMillionTokens": 0.15, "outputPricePerMillionTokens": 0.60, "trainingCutoff": "2023-10-01" }
              }
            }
            """);
        var folder = Path.Combine(env.Root, "eval");
        var questions = Path.Combine(env.ConfigDirectory, "samples", "questions.jsonl");

        var (code, stdout, stderr) = await FinNewsProcess.RunAsync("eval", "answers", "--questions", questions, "--out", folder, "--config", env.ConfigDirectory);

        code.Should().Be(0, stdout + stderr);
        // The tables README.md quotes: regenerate with --filter EvalAnswersTests --logger "console;verbosity=detailed".
        output.WriteLine(stdout);
        stdout.Should().Contain("## Trade-offs").And.Contain("| tuned · retrieval |");
        File.ReadAllText(Path.Combine(folder, "eval-answers.html")).Should().Contain("<svg").And.NotContain("<script");
        using var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "eval-answers.json")));
        var rows = report.RootElement.GetProperty("summaries").EnumerateArray()
            .ToDictionary(r => r.GetProperty("configuration").GetString()!, r => r.Clone());
        rows.Keys.Should().BeEquivalentTo(["extractive · retrieval", "base · closed-book", "base · retrieval", "base · tools",
            "tuned · closed-book", "tuned · retrieval", "tuned · tools"]);
        double? Share(string config, string name) => rows[config].GetProperty(name).ValueKind == JsonValueKind.Null ? null : rows[config].GetProperty(name).GetDouble();
        int Count(string config, string name) => rows[config].GetProperty(name).GetInt32();

        foreach (var closed in new[] { "base · closed-book", "tuned · closed-book" })
        {
            Share(closed, "citationPrecision").Should().BeNull("closed-book answers carry no citations");
            Share(closed, "citationRecall").Should().Be(0);
            Share(closed, "freshness").Should().Be(0, "the sample news is after the model's training cutoff");
        }

        // Retrieval lifts faithfulness: what the reader sees rests on cited sources; closed-book figures rest on nothing.
        Share("tuned · closed-book", "faithfulnessShown").Should().Be(0);
        Share("tuned · retrieval", "faithfulnessShown").Should().Be(1, File.ReadAllText(Path.Combine(folder, "eval-answers.json")));
        Share("tuned · tools", "faithfulnessShown").Should().Be(1);
        Share("tuned · retrieval", "freshness").Should().BeGreaterThan(0);

        // The invented figures are written, and every one is caught before a reader sees it.
        Count("tuned · retrieval", "figuresInvented").Should().BeGreaterThan(0);
        Count("tuned · retrieval", "figuresCaught").Should().Be(Count("tuned · retrieval", "figuresInvented"));
        Count("tuned · tools", "figuresCaught").Should().Be(Count("tuned · tools", "figuresInvented")).And.BeGreaterThan(0);
        Share("tuned · retrieval", "faithfulnessWritten").Should().BeLessThan(1);

        // Style: the inventor follows it when it has sources; the ignorer never does.
        Share("base · retrieval", "houseStyle").Should().BeLessThan(Share("tuned · retrieval", "houseStyle")!.Value);
        Share("base · closed-book", "houseStyle").Should().Be(0);
        Share("extractive · retrieval", "citationPrecision").Should().Be(1);
        rows["tuned · retrieval"].GetProperty("cost").GetDecimal().Should().BeGreaterThan(0);
    }

    [Fact]
    public async Task A_bad_question_file_exits_2_naming_the_line_and_field()
    {
        using var env = TestEnvironment.Create();
        var file = Path.Combine(env.Root, "q.jsonl");
        await File.WriteAllLinesAsync(file, ["""{"id":"a","question":"What?","asOf":"2026-11-21T06:00:00Z","expected":["1%"]}""",
            """{"id":"b","question":"When?","asOf":"yesterday","expected":["2%"]}"""]);

        var (code, _, stderr) = await FinNewsProcess.RunAsync("eval", "answers", "--questions", file, "--config", env.ConfigDirectory);

        code.Should().Be(2);
        stderr.Should().Contain("line 2: asOf 'yesterday' is not an ISO 8601 instant");
    }

    [Fact]
    public async Task A_judge_profile_catches_vague_citations_that_the_validator_passes()
    {
        using var env = TestEnvironment.Create();
        using (var host = AppHost.BuildTool(env.Paths, env.Clock, verbose: false))
        {
            await host.Services.GetRequiredService<FinNewsPipeline>().IngestAsync(null, CancellationToken.None);
        }

        await using var vague = await ScriptedAnswerModel.StartAsync(AnswerPolicy.VagueCiter);
        await using var ignorer = await ScriptedAnswerModel.StartAsync(AnswerPolicy.StyleIgnorer);
        await using var judge = await ScriptedJudgeModel.StartAsync();
        await File.WriteAllTextAsync(Path.Combine(env.ConfigDirectory, "models.json"), $$"""
            {
              "profiles": {
                "briefing": { "enabled": true, "endpoint": "{{vague.Endpoint}}", "model": "gpt-4o-mini-2024-07-18", "maxRetries": 0 },
                "base": { "enabled": true, "endpoint": "{{ignorer.Endpoint}}", "model": "gpt-4o-mini-2024-07-18", "maxRetries": 0 },
                "judge": { "enabled": true, "endpoint": "{{judge.Endpoint}}", "model": "gpt-4o-mini-2024-07-18", "maxRetries": 0,
                           "inputPricePerMillionTokens": 0.15, "outputPricePerMillionTokens": 0.60 }
              }
            }
            """);
        var folder = Path.Combine(env.Root, "eval");
        var questions = Path.Combine(env.ConfigDirectory, "samples", "questions.jsonl");

        var (code, stdout, stderr) = await FinNewsProcess.RunAsync("eval", "answers", "--questions", questions, "--out", folder, "--mode", "retrieval",
            "--judge", "judge", "--config", env.ConfigDirectory);

        code.Should().Be(0, stdout + stderr);
        output.WriteLine(stdout);
        stdout.Should().Contain("## Citation judge: judge (gpt-4o-mini-2024-07-18)").And.Contain("attribution, judged");
        var json = File.ReadAllText(Path.Combine(folder, "eval-answers.json"));
        using var report = JsonDocument.Parse(json);
        var rows = report.RootElement.GetProperty("summaries").EnumerateArray()
            .ToDictionary(r => r.GetProperty("configuration").GetString()!, r => r.Clone());
        JsonElement Judged(string config) => rows[config].GetProperty("judge");

        // The vague sentence carries no figure or ticker: the validator passes every citation, the judge does not.
        rows["tuned · retrieval"].GetProperty("citationPrecision").GetDouble().Should().Be(1, json);
        Judged("tuned · retrieval").GetProperty("validatorPassedJudgeRejected").GetInt32().Should().BeGreaterThan(0);
        Judged("tuned · retrieval").GetProperty("precisionWithValidator").GetDouble().Should().BeLessThan(1).And.BeGreaterThan(0);
        // Faithful answers (the first source's own sentence; the extractive writer's source sentences) pass both.
        Judged("base · retrieval").GetProperty("precision").GetDouble().Should().Be(1, json);
        Judged("extractive · retrieval").GetProperty("precision").GetDouble().Should().Be(1, json);
        rows.Values.Sum(r => r.GetProperty("judge").GetProperty("pairs").GetInt32()).Should().Be(judge.Prompts.Count, "every judged pair is one call");
        Judged("tuned · retrieval").GetProperty("cost").GetDecimal().Should().BeGreaterThan(0);
        // Feed text reaches the judge entity-escaped inside its fence: no source can open or close a block of its own.
        judge.Prompts.Should().OnlyContain(p => p.Split("<source>").Length == 2 && p.Split("</source>").Length == 2);
    }

    [Fact]
    public async Task A_judge_that_answers_without_a_verdict_is_unclear_never_support_and_an_unknown_judge_exits_2()
    {
        CitationJudge.Parse("""{"supported": true, "reason": "stated"}""").Should().Be(JudgeVerdict.Supported);
        CitationJudge.Parse("```json\n{\"supported\": false}\n```").Should().Be(JudgeVerdict.Unsupported);
        CitationJudge.Parse("Yes, supported.").Should().Be(JudgeVerdict.Unclear);
        CitationJudge.Parse("""{"supported": "yes"}""").Should().Be(JudgeVerdict.Unclear);
        CitationJudge.Parse("""{"verdict": true}""").Should().Be(JudgeVerdict.Unclear);

        await using var garbled = await ScriptedJudgeModel.StartAsync(garbled: true);
        var profile = new ModelProfile { Name = "judge", Enabled = true, Endpoint = garbled.Endpoint, Model = "gpt-4o-mini-2024-07-18", MaxRetries = 0 };
        var judge = new CitationJudge(ModelKernels.Build(profile, new ManualTimeProvider(Some.Day), new CitationValidator(), new Relevance()), profile);
        var outcome = await judge.JudgeAsync([("Brent rose 2% to $80 a barrel.", "Brent crude rose 2% to $80 a barrel on Thursday.", true)], CancellationToken.None);
        outcome.Should().BeEquivalentTo(new { Pairs = 1, Supported = 0, Unclear = 1, BothSupported = 0 });

        using var env = TestEnvironment.Create();
        var (code, _, stderr) = await FinNewsProcess.RunAsync("eval", "answers", "--questions", Path.Combine(env.ConfigDirectory, "samples", "questions.jsonl"),
            "--judge", "referee", "--config", env.ConfigDirectory);
        code.Should().Be(2);
        stderr.Should().Contain("--judge 'referee': no such profile");
    }
}
