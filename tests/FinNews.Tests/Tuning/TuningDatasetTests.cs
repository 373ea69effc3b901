using System.Text.Json;
using System.Text.RegularExpressions;
using FinNews.Core.Briefing;
using FinNews.Core.Storage.Sqlite;
using FinNews.Core.Tuning;
using FinNews.Tests.Support;
using Microsoft.ML.Tokenizers;

namespace FinNews.Tests.Tuning;

/// <summary>`finnews tune dataset`: approved briefing sections become chat examples, checked, counted and split by time.</summary>
public class TuningDatasetTests
{
    [Fact]
    public async Task The_sample_approvals_make_a_dataset_that_validates_and_whose_token_totals_equal_the_tokenizers()
    {
        using var env = TestEnvironment.Create();
        await SampleApprovals.CreateAsync(env);
        var folder = Path.Combine(env.Root, "dataset");

        var (code, stdout, stderr) = await FinNewsProcess.RunAsync("tune", "dataset", "--out", folder, "--config", env.ConfigDirectory);

        code.Should().Be(0, stdout + stderr);
        stdout.Should().Contain("pass OpenAI's chat fine-tuning format and limits");
        var manifest = TuningDatasetFiles.ReadManifest(Path.Combine(folder, "manifest.json"))!;
        manifest.ApprovedBriefings.Should().Be(SampleApprovals.AsOf.Length);
        manifest.Model.Should().Be("gpt-4o-mini-2024-07-18", "the base profile's model is the one tuned");
        manifest.Encoding.Should().Be("o200k_base");

        // Token totals recomputed here, straight from the tokenizer, with OpenAI's chat counting rule: 3 tokens per
        // message plus its role and content, and 3 that prime the reply.
        var o200k = TiktokenTokenizer.CreateForEncoding("o200k_base");
        long Recount(string file, List<int> perExample)
        {
            long total = 0;
            foreach (var line in File.ReadLines(file))
            {
                using var json = JsonDocument.Parse(line);
                var tokens = json.RootElement.GetProperty("messages").EnumerateArray()
                    .Sum(m => 3 + o200k.CountTokens(m.GetProperty("role").GetString()!) + o200k.CountTokens(m.GetProperty("content").GetString()!)) + 3;
                perExample.Add(tokens);
                total += tokens;
            }

            return total;
        }

        var trainTokens = new List<int>();
        var validationTokens = new List<int>();
        Recount(Path.Combine(folder, "train.jsonl"), trainTokens).Should().Be(manifest.Training.Tokens);
        Recount(Path.Combine(folder, "validation.jsonl"), validationTokens).Should().Be(manifest.Validation!.Tokens);
        manifest.Examples.Where(e => e.File == "train.jsonl").Select(e => e.Tokens).Should().Equal(trainTokens);
        manifest.Examples.Where(e => e.File == "validation.jsonl").Select(e => e.Tokens).Should().Equal(validationTokens);
        stdout.Should().Contain($"{manifest.Training.Examples} examples, {manifest.Training.Tokens:N0} tokens");

        manifest.Training.Examples.Should().BeGreaterThanOrEqualTo(FineTuningFormat.MinExamples, "OpenAI needs 10 training examples");
        manifest.Training.Errors.Should().BeEmpty();
        manifest.Validation.Errors.Should().BeEmpty();
        manifest.Examples.Should().Contain(e => e.Edited, "the edited approval is training data too");

        // Split by time: no validation example covers an instant before a training example's.
        var trainLatest = manifest.Examples.Where(e => e.File == "train.jsonl").Max(e => e.AsOf);
        manifest.Examples.Where(e => e.File == "validation.jsonl").Should().OnlyContain(e => e.AsOf > trainLatest);

        // Duplicates (sections that read the same in two versions of the day) are kept once.
        manifest.Examples.Select(e => e.Hash).Should().OnlyHaveUniqueItems();
        File.ReadLines(Path.Combine(folder, "train.jsonl")).Concat(File.ReadLines(Path.Combine(folder, "validation.jsonl")))
            .Should().OnlyHaveUniqueItems();
    }

    [Fact]
    public async Task Every_example_is_the_writers_prompt_with_distractors_and_cites_only_sources_in_its_prompt()
    {
        using var env = TestEnvironment.Create();
        await SampleApprovals.CreateAsync(env);
        var store = new SqliteStore(env.DatabasePath);

        var build = new TuningDataset(store, store, store, new CitationValidator()).Build(new TuningDatasetOptions { Distractors = 2 });

        build.Training.Should().NotBeEmpty();
        foreach (var example in build.Training.Concat(build.Validation))
        {
            example.Messages.Select(m => m.Role).Should().Equal("system", "user", "assistant");
            example.Messages[0].Content.Should().Be(LlmWriter.SystemPrompt);
            example.Messages[1].Content.Should().StartWith("Section: ").And.Contain("<source id=\"1\"");
            var given = Regex.Matches(example.Messages[1].Content, "<source id=\"(\\d+)\"").Select(m => int.Parse(m.Groups[1].Value)).ToHashSet();
            using var reply = JsonDocument.Parse(example.Messages[2].Content);
            var cited = reply.RootElement.GetProperty("bullets").EnumerateArray()
                .SelectMany(b => b.GetProperty("citations").EnumerateArray().Select(c => c.GetInt32())).ToHashSet();
            cited.Should().NotBeEmpty().And.BeSubsetOf(given);
            given.Count.Should().Be(example.Sources);
        }

        // Uncited articles of the same window are mixed in wherever the window has any (an early briefing may cite all).
        var news = build.Training.Concat(build.Validation).Where(e => e.Section != "markets").ToList();
        news.Count(e => e.Distractors > 0).Should().BeGreaterThan(news.Count / 2);
        news.Where(e => e.Distractors > 0).Should().OnlyContain(e => e.Distractors <= 2);
    }

    [Fact]
    public async Task Sections_citing_sources_absent_from_the_prompt_or_stating_what_they_do_not_say_are_refused_with_the_reason()
    {
        using var env = TestEnvironment.Create();
        var ids = await SampleApprovals.CreateAsync(env);
        var store = new SqliteStore(env.DatabasePath);
        var first = store.GetBriefing(ids[0])!;
        var top = first.Sections.First(s => s.Bullets.Count > 0);
        // A statement citing a number the briefing never listed, and one adding a figure no cited source holds.
        var broken = first with
        {
            Sections = first.Sections.Select(s => s.Key == top.Key
                ? s with { Bullets = [top.Bullets[0] with { Citations = [99] }, .. s.Bullets.Skip(1)] }
                : s).ToList(),
        };
        store.SaveEditedBriefing(broken);
        store.ApproveBriefing(first.Id, "analyst@example.com", env.Clock.GetUtcNow());
        var second = store.GetBriefing(ids[1])!;
        var watch = second.Sections.Last(s => s.Bullets.Count > 0 && s.Key != "markets");
        store.SaveEditedBriefing(second with
        {
            Sections = second.Sections.Select(s => s.Key == watch.Key
                ? s with { Bullets = [watch.Bullets[0] with { Text = watch.Bullets[0].Text + " Revenue may reach $99.9bn." }, .. s.Bullets.Skip(1)] }
                : s).ToList(),
        });
        store.ApproveBriefing(second.Id, "analyst@example.com", env.Clock.GetUtcNow());
        var build = new TuningDataset(store, store, store, new CitationValidator()).Build(new TuningDatasetOptions());

        build.Refused.Should().Contain(r => r.BriefingId == first.Id && r.Section == top.Key
            && r.Reasons.Any(x => x.Contains("cites [99], which is not one of the briefing's sources")));
        build.Refused.Should().Contain(r => r.BriefingId == second.Id && r.Section == watch.Key
            && r.Reasons.Any(x => x.Contains("figure '$99.9bn' is not in the cited source(s)")));
        build.Training.Concat(build.Validation).Should().NotContain(e => e.Messages[2].Content.Contains("$99.9bn"));
    }

    [Fact]
    public async Task A_section_citing_an_article_that_retention_deleted_is_refused_because_its_source_cannot_be_in_the_prompt()
    {
        using var env = TestEnvironment.Create();
        var ids = await SampleApprovals.CreateAsync(env);
        var store = new SqliteStore(env.DatabasePath);
        var last = store.GetBriefing(ids[^1])!;
        var section = last.Sections.First(s => s.Bullets.Count > 0 && s.Key != "markets");
        var gone = last.Source(section.Bullets[0].Citations[0])!;
        store.DeleteArticles([gone.ArticleId!]);

        var build = new TuningDataset(store, store, store, new CitationValidator()).Build(new TuningDatasetOptions());

        build.Refused.Should().Contain(r => r.BriefingId == last.Id && r.Section == section.Key
            && r.Reasons.Any(x => x.Contains($"(\"{gone.Title}\") is no longer stored, so it cannot be in the prompt")));
        build.Training.Concat(build.Validation).Should().NotContain(e => e.BriefingId == last.Id && e.Section == section.Key);
    }

    [Fact]
    public async Task A_file_that_breaks_the_format_or_the_token_limit_is_reported_by_line_and_exits_1()
    {
        using var env = TestEnvironment.Create();
        var file = Path.Combine(env.Root, "bad.jsonl");
        var longText = string.Join(' ', Enumerable.Repeat("revenue", 20_000));
        Directory.CreateDirectory(env.Root);
        await File.WriteAllLinesAsync(file,
        [
            """{"messages":[{"role":"system","content":"s"},{"role":"user","content":"q"},{"role":"assistant","content":"a"}]}""",
            """{"messages":[{"role":"user","content":"q"}],"metadata":{"x":1}}""",
            """{"messages":[{"role":"user","content":"q","weight":1},{"role":"robot","content":"a"}]}""",
            "not json",
            $$"""{"messages":[{"role":"user","content":"{{longText}}"},{"role":"assistant","content":"a"}]}""",
        ]);

        var (code, stdout, stderr) = await FinNewsProcess.RunAsync("tune", "validate", file, "--model", "gpt-3.5-turbo-0125");

        code.Should().Be(1, stdout + stderr);
        stderr.Should().Contain("line 2: unrecognized key \"metadata\"")
            .And.Contain("line 2: no assistant message")
            .And.Contain("line 3: message 1: \"weight\" must be 0 or 1 and only on assistant messages")
            .And.Contain("line 3: message 2 has the unknown role \"robot\"")
            .And.Contain("line 4: not valid JSON")
            .And.MatchRegex(@"line 5: [\d,]+ tokens; gpt-3.5-turbo-0125 takes at most 16,385 per training example")
            .And.Contain("5 example(s); OpenAI fine-tuning needs at least 10 in the training file");
        stderr.Should().NotContain("line 1:");
    }

    [Fact]
    public void The_time_split_never_puts_validation_before_training_and_keeps_an_instant_whole()
    {
        TuningExample At(int hour, string id) => new(id, "top", new DateTimeOffset(2026, 11, 20, hour, 0, 0, TimeSpan.Zero), false, [], 10, 3, 1, id);
        var examples = new[] { At(12, "a"), At(12, "b"), At(15, "c"), At(18, "d"), At(18, "e"), At(18, "f") };

        var (training, validation) = TuningDataset.SplitByTime(examples, 0.2);

        validation.Select(e => e.BriefingId).Should().BeEquivalentTo(["d", "e", "f"], "18:00 goes to validation whole");
        training.Select(e => e.BriefingId).Should().Equal("a", "b", "c");
        TuningDataset.SplitByTime([At(12, "a"), At(12, "b")], 0.5).Validation.Should().BeEmpty("one instant cannot be split by time");
    }
}
