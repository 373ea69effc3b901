using System.Text.Json;
using FinNews.Core.Models;
using FinNews.Tests.Support;

namespace FinNews.Tests.Tuning;

/// <summary>
/// `finnews tune submit|status|list|events|checkpoints|cancel` and `finnews models use`, through the real executable and
/// the OpenAI SDK over loopback HTTP. No hosted model exists here: <see cref="FineTuningServer"/> replays responses
/// shaped as OpenAI documents them for the files and fine-tuning endpoints.
/// </summary>
public class TuningJobTests
{
    private const string KeyVariable = "FINNEWS_TEST_OPENAI_KEY";
    private const string Key = "sk-test-never-printed-0123456789";
    private static readonly Dictionary<string, string> KeyEnvironment = new() { [KeyVariable] = Key };

    // The profiles of the shipped config/models.json, pointed at the loopback server (a text edit: comments stay).
    private static string PointAt(TestEnvironment env, FineTuningServer server)
    {
        var path = Path.Combine(env.ConfigDirectory, "models.json");
        File.WriteAllText(path, File.ReadAllText(path)
            .Replace("https://api.openai.com/v1", server.Endpoint.ToString().TrimEnd('/'), StringComparison.Ordinal)
            .Replace("OPENAI_API_KEY", KeyVariable, StringComparison.Ordinal));
        return path;
    }

    private static Task<(int Code, string Out, string Err)> Run(TestEnvironment env, params string[] args) =>
        FinNewsProcess.RunWithAsync(KeyEnvironment, [.. args, "--config", env.ConfigDirectory]);

    private static string SmallDataset(TestEnvironment env)
    {
        var folder = Path.Combine(env.Root, "small");
        Directory.CreateDirectory(folder);
        File.WriteAllLines(Path.Combine(folder, "train.jsonl"), Enumerable.Range(1, 10).Select(i =>
            $$"""{"messages":[{"role":"system","content":"Write one section."},{"role":"user","content":"Section: Top stories {{i}}"},{"role":"assistant","content":"{\"bullets\":[]}"}]}"""));
        return folder;
    }

    [Fact]
    public async Task Submit_then_running_then_succeeded_then_promote_works_end_to_end_and_keeps_the_old_model()
    {
        using var env = TestEnvironment.Create();
        await SampleApprovals.CreateAsync(env);
        await using var server = await FineTuningServer.StartAsync();
        var models = PointAt(env, server);
        var dataset = Path.Combine(env.Root, "dataset");
        (await Run(env, "tune", "dataset", "--out", dataset)).Code.Should().Be(0);

        var submit = await Run(env, "tune", "submit", "--dataset", dataset, "--suffix", "finnews", "--epochs", "3", "--seed", "42");

        submit.Code.Should().Be(0, submit.Out + submit.Err);
        submit.Out.Should().Contain("Fine-tuning job ftjob-test1 created on gpt-4o-mini-2024-07-18").And.Contain("validating_files");
        var requests = server.Requests.ToList();
        requests.Where(r => r.Path == "/v1/files").Should().HaveCount(2, "training and validation files are uploaded");
        requests.Should().OnlyContain(r => r.Authorization == "Bearer " + Key, "the key comes from the variable the profile names");
        requests.First(r => r.Path == "/v1/files").Body.Should().Contain("fine-tune").And.Contain("\"messages\"");
        using (var create = JsonDocument.Parse(requests.Single(r => r.Path == "/v1/fine_tuning/jobs").Body))
        {
            create.RootElement.GetProperty("model").GetString().Should().Be("gpt-4o-mini-2024-07-18");
            create.RootElement.GetProperty("training_file").GetString().Should().Be("file-test1");
            create.RootElement.GetProperty("validation_file").GetString().Should().Be("file-test2");
            create.RootElement.GetProperty("suffix").GetString().Should().Be("finnews");
            create.RootElement.GetProperty("seed").GetInt32().Should().Be(42);
            create.RootElement.GetProperty("method").GetProperty("supervised").GetProperty("hyperparameters").GetProperty("n_epochs").GetInt32().Should().Be(3);
        }

        var before = await File.ReadAllTextAsync(models);
        var running = await Run(env, "tune", "status", "ftjob-test1");
        running.Code.Should().Be(0, running.Err);
        running.Out.Should().Contain("validating_files").And.Contain("Not finished");
        (await File.ReadAllTextAsync(models)).Should().Be(before, "nothing is recorded before the job succeeds");

        var done = await Run(env, "tune", "status", "ftjob-test1", "--wait", "--interval", "1");

        done.Code.Should().Be(0, done.Out + done.Err);
        done.Out.Should().Contain("Fine-tuning job started").And.Contain("The job has successfully completed")
            .And.Contain("succeeded, 91,245 tokens trained").And.Contain($"New model: {FineTuningServer.TunedModel}")
            .And.Contain($"finnews models use briefing {FineTuningServer.TunedModel}");
        (done.Out + done.Err + submit.Out + submit.Err).Should().NotContain(Key);
        var candidate = ModelProfiles.Load(models).Find("candidate")!;
        candidate.Model.Should().Be(FineTuningServer.TunedModel);
        candidate.Endpoint.Should().Be(ModelProfiles.Load(models).Find("briefing")!.Endpoint);

        var events = await Run(env, "tune", "events", "ftjob-test1");
        events.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).First().Should().Contain("Validating training file", "events print oldest first");
        (await Run(env, "tune", "checkpoints", "ftjob-test1")).Out.Should().Contain("step 88: " + FineTuningServer.TunedModel + ":ckpt-step-88 (train loss 0.47, valid loss 0.52)");
        (await Run(env, "tune", "list")).Out.Should().Contain("ftjob-test1").And.Contain(FineTuningServer.TunedModel);

        var promote = await Run(env, "models", "use", "briefing", FineTuningServer.TunedModel);

        promote.Code.Should().Be(0, promote.Err);
        promote.Out.Should().Contain("was gpt-4o-mini-2024-07-18, kept as previousModel");
        var promoted = ModelProfiles.Load(models).Find("briefing")!;
        promoted.Model.Should().Be(FineTuningServer.TunedModel);
        promoted.PreviousModel.Should().Be("gpt-4o-mini-2024-07-18");
        var text = await File.ReadAllTextAsync(models);
        text.Should().Contain("// Model profiles (DESIGN.md", "the edit keeps the file's comments");
        File.Exists(models + ".bak").Should().BeTrue();
        ModelProfiles.Load(models + ".bak").Find("briefing")!.Model.Should().Be("gpt-4o-mini-2024-07-18");

        // Rolling back is the same command with the old id; the tuned one becomes previousModel.
        (await Run(env, "models", "use", "briefing", "gpt-4o-mini-2024-07-18")).Code.Should().Be(0);
        ModelProfiles.Load(models).Find("briefing")!.PreviousModel.Should().Be(FineTuningServer.TunedModel);
    }

    [Fact]
    public async Task A_rejected_file_says_why_and_leaves_config_untouched()
    {
        using var env = TestEnvironment.Create();
        await using var server = await FineTuningServer.StartAsync();
        server.RejectUploads = "Invalid file format for Fine-Tuning API. Must be .jsonl";
        var models = PointAt(env, server);
        var before = await File.ReadAllBytesAsync(models);

        var (code, stdout, stderr) = await Run(env, "tune", "submit", "--dataset", SmallDataset(env));

        code.Should().Be(1, stdout + stderr);
        stderr.Should().Contain("The fine-tuning API refused the upload of train.jsonl (HTTP 400): Invalid file format for Fine-Tuning API. Must be .jsonl")
            .And.Contain("Nothing was changed in config/models.json");
        stderr.Should().NotContain("   at ");
        (await File.ReadAllBytesAsync(models)).Should().Equal(before);
        server.Requests.Should().NotContain(r => r.Path == "/v1/fine_tuning/jobs");
    }

    [Fact]
    public async Task A_failed_job_says_why_and_leaves_config_untouched()
    {
        using var env = TestEnvironment.Create();
        await using var server = await FineTuningServer.StartAsync();
        server.Outcome = "failed";
        var models = PointAt(env, server);
        (await Run(env, "tune", "submit", "--dataset", SmallDataset(env))).Code.Should().Be(0);
        var before = await File.ReadAllBytesAsync(models);

        var (code, stdout, stderr) = await Run(env, "tune", "status", "ftjob-test1", "--wait", "--interval", "1");

        code.Should().Be(1, stdout + stderr);
        stdout.Should().Contain("error: Training file has 3 example(s)");
        stderr.Should().Contain("Job ftjob-test1 failed: invalid_training_file: The job failed due to an invalid training file.")
            .And.Contain("config/models.json is unchanged");
        (await File.ReadAllBytesAsync(models)).Should().Equal(before);
    }

    [Fact]
    public async Task A_cancelled_job_says_so_and_leaves_config_untouched()
    {
        using var env = TestEnvironment.Create();
        await using var server = await FineTuningServer.StartAsync();
        var models = PointAt(env, server);
        (await Run(env, "tune", "submit", "--dataset", SmallDataset(env))).Code.Should().Be(0);
        var before = await File.ReadAllBytesAsync(models);

        var cancel = await Run(env, "tune", "cancel", "ftjob-test1");
        var status = await Run(env, "tune", "status", "ftjob-test1");

        cancel.Code.Should().Be(0, cancel.Err);
        cancel.Out.Should().Contain("Job ftjob-test1: cancelled");
        server.Requests.Should().Contain(r => r.Method == "POST" && r.Path == "/v1/fine_tuning/jobs/ftjob-test1/cancel");
        status.Code.Should().Be(1);
        status.Err.Should().Contain("Job ftjob-test1 was cancelled. config/models.json is unchanged.");
        (await File.ReadAllBytesAsync(models)).Should().Equal(before);
    }

    [Theory]
    [InlineData(new[] { "models", "use", "nosuch", "gpt-4o-mini" }, "has no profile 'nosuch'; profiles: briefing, base, judge, embedding")]
    [InlineData(new[] { "models", "use", "briefing", "two words" }, "model-id: the model id 'two words' contains spaces")]
    [InlineData(new[] { "tune", "status", "ftjob test" }, "is not a job id")]
    [InlineData(new[] { "tune", "submit", "--suffix", "no spaces please" }, "--suffix 'no spaces please' must be 1 to 64")]
    [InlineData(new[] { "tune", "dataset", "--validation", "0.9" }, "--validation 0.9 must be between 0 and 0.5")]
    public async Task Bad_arguments_exit_2_naming_what_was_wrong_and_change_nothing(string[] args, string message)
    {
        using var env = TestEnvironment.Create();
        var models = Path.Combine(env.ConfigDirectory, "models.json");
        var before = await File.ReadAllBytesAsync(models);

        var (code, _, stderr) = await Run(env, args);

        code.Should().Be(2, stderr);
        stderr.Should().Contain(message);
        (await File.ReadAllBytesAsync(models)).Should().Equal(before);
    }
}
