using System.CommandLine;
using System.Globalization;
using System.Text.RegularExpressions;
using FinNews.Core.Briefing;
using FinNews.Core.Feeds;
using FinNews.Core.Market;
using FinNews.Core.Models;
using FinNews.Core.Search;
using FinNews.Core.Tuning;
using FinNews.Hosting;
using Spectre.Console;

namespace FinNews.Cli;

/// <summary>
/// The tuning and evaluation verbs: <c>tune dataset|validate|submit|status|list|events|checkpoints|cancel</c>,
/// <c>models use</c> and <c>eval answers</c> (issue 13). Kept out of <see cref="FinNewsCli"/> so the CLI can be split per
/// verb group.
/// </summary>
internal static partial class TuneCommands
{
    private const string DefaultDataset = "tuning/dataset";
    private const string CandidateProfile = "candidate";

    public static Command Command()
    {
        var command = new Command("tune", "Fine-tuning: build the dataset from approved briefings, run and follow OpenAI fine-tuning jobs");
        command.Subcommands.Add(DatasetCommand());
        command.Subcommands.Add(ValidateCommand());
        command.Subcommands.Add(SubmitCommand());
        command.Subcommands.Add(StatusCommand());
        command.Subcommands.Add(ListCommand());
        command.Subcommands.Add(EventsCommand());
        command.Subcommands.Add(CheckpointsCommand());
        command.Subcommands.Add(CancelCommand());
        return command;
    }

    private static Command DatasetCommand()
    {
        var output = new Option<string?>("--out", "-o") { Description = "Folder for train.jsonl, validation.jsonl and manifest.json (default: data/tuning/dataset)" };
        var model = new Option<string?>("--model") { Description = "Base model to be tuned: its tokenizer and limits (default: the base profile's model)" };
        var distractors = new Option<int>("--distractors") { Description = "Uncited articles of the same window mixed into each prompt (0 to 10)", DefaultValueFactory = _ => 2 };
        var validation = new Option<double>("--validation") { Description = "Share of examples, the latest by time, kept for validation (0 to 0.5)", DefaultValueFactory = _ => 0.2 };
        var format = new Option<string>("--reply-format") { Description = "json (the writer's json_schema reply) or markdown (its bullet reply)", DefaultValueFactory = _ => "json" };
        format.AcceptOnlyFromAmong("json", "markdown");
        var command = new Command("dataset", "Build chat-format JSONL from analyst-approved (and edited) briefing sections, with distractor sources, exact token counts, a time split and OpenAI's format and limits checked")
        {
            output, model, distractors, validation, format,
        };
        command.SetAction((parse, ct) => FinNewsCli.Guard(async () =>
        {
            if (parse.GetValue(distractors) is < 0 or > 10)
            {
                await Console.Error.WriteLineAsync($"--distractors {parse.GetValue(distractors)} must be between 0 and 10.");
                return 2;
            }

            if (parse.GetValue(validation) is < 0 or > 0.5)
            {
                await Console.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"--validation {parse.GetValue(validation)} must be between 0 and 0.5."));
                return 2;
            }

            using var host = AppHost.BuildTool(FinNewsCli.Paths(parse), FinNewsCli.Clock, parse.GetValue(FinNewsCli.VerboseOption));
            var profiles = host.Services.GetRequiredService<ModelProfiles>();
            var target = parse.GetValue(model) ?? profiles.Find(ModelProfiles.Base)?.Model ?? new TuningDatasetOptions().Model;
            if (ModelsFileEditor.InvalidModelId(target) is { } bad)
            {
                await Console.Error.WriteLineAsync($"--model: {bad}.");
                return 2;
            }

            var folder = Path.GetFullPath(parse.GetValue(output) ?? Path.Combine(FinNewsCli.DataDirectory(host), DefaultDataset));
            var watchlist = host.Services.GetRequiredService<Watchlist>();
            var build = new TuningDataset(host.Services.GetRequiredService<IBriefingStore>(), host.Services.GetRequiredService<IArticleStore>(),
                host.Services.GetRequiredService<IMarketStore>(), host.Services.GetRequiredService<CitationValidator>()).Build(new TuningDatasetOptions
            {
                Model = target,
                Distractors = parse.GetValue(distractors),
                ValidationShare = parse.GetValue(validation),
                JsonReplies = parse.GetValue(format) == "json",
                Names = watchlist.Tickers.ToDictionary(t => t.Symbol, t => t.Name, StringComparer.Ordinal),
            });
            if (build.Briefings == 0)
            {
                await Console.Error.WriteLineAsync("No approved briefings yet: an editor approves a briefing on its page (Review), then it can become training data.");
                return 1;
            }

            var written = TuningDatasetFiles.Write(build, folder);
            var c = CultureInfo.InvariantCulture;
            Console.WriteLine(string.Create(c, $"Dataset from {build.Briefings} approved briefing(s), tokens counted with {build.Encoding} for {build.Model}:"));
            Console.WriteLine(string.Create(c, $"  training:   {written.Training.Examples} examples, {written.Training.Tokens:N0} tokens (longest {written.Training.MaxExampleTokens:N0}) -> {written.TrainingFile}"));
            Console.WriteLine(written.Validation is { } v
                ? string.Create(c, $"  validation: {v.Examples} examples, {v.Tokens:N0} tokens -> {written.ValidationFile}")
                : "  validation: none");
            Console.WriteLine(string.Create(c, $"  refused:    {build.Refused.Count} section(s); duplicates dropped: {build.Duplicates.Count}"));
            foreach (var r in build.Refused)
            {
                Console.WriteLine(string.Create(c, $"  refused {r.BriefingId} {r.Section}: {string.Join("; ", r.Reasons)}"));
            }

            foreach (var note in build.Notes)
            {
                Console.WriteLine($"Note: {note}");
            }

            Console.WriteLine($"Manifest (where each example came from, tokens, refusals): {written.ManifestFile}");
            if (!written.Valid)
            {
                foreach (var e in written.Training.Errors.Concat(written.Validation?.Errors ?? []))
                {
                    await Console.Error.WriteLineAsync($"  {e}");
                }

                await Console.Error.WriteLineAsync("The dataset does not meet OpenAI's fine-tuning format or limits (above); `finnews tune submit` will refuse it until it does.");
                return 1;
            }

            Console.WriteLine(string.Create(c, $"The files pass OpenAI's chat fine-tuning format and limits. Next: finnews tune submit --dataset {folder}"));
            return 0;
        }));
        return command;
    }

    private static Command ValidateCommand()
    {
        var file = new Argument<string>("file") { Description = "A chat-format JSONL file" };
        var model = new Option<string>("--model") { Description = "The base model whose tokenizer and limits apply", DefaultValueFactory = _ => "gpt-4o-mini-2024-07-18" };
        var validationFile = new Option<bool>("--validation-file") { Description = "The file is a validation file (no minimum example count)" };
        var command = new Command("validate", "Check a JSONL file against OpenAI's chat fine-tuning format and limits; print examples and exact tokens") { file, model, validationFile };
        command.SetAction((parse, ct) => FinNewsCli.Guard(async () =>
        {
            var path = parse.GetValue(file)!;
            if (!File.Exists(path))
            {
                await Console.Error.WriteLineAsync($"'{path}' is not a file.");
                return 2;
            }

            var report = FineTuningFormat.CheckFile(path, parse.GetValue(model)!, training: !parse.GetValue(validationFile));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{path}: {report.Examples} examples, {report.Tokens:N0} tokens ({report.Encoding}), longest {report.MaxExampleTokens:N0}, {report.Bytes:N0} bytes"));
            foreach (var e in report.Errors)
            {
                await Console.Error.WriteLineAsync($"  {e}");
            }

            Console.WriteLine(report.Valid ? "Valid." : string.Create(CultureInfo.InvariantCulture, $"Not valid: {report.Errors.Count} problem(s)."));
            return report.Valid ? 0 : 1;
        }));
        return command;
    }

    private static Option<string> ProfileOption() =>
        new("--profile") { Description = "The model profile whose endpoint and API key variable run the job (default: base)", DefaultValueFactory = _ => ModelProfiles.Base };

    private static Command SubmitCommand()
    {
        var dataset = new Option<string?>("--dataset") { Description = "Folder with train.jsonl (and validation.jsonl) from `tune dataset` (default: data/tuning/dataset)" };
        var profile = ProfileOption();
        var model = new Option<string?>("--model") { Description = "Base model to tune (default: the profile's model)" };
        var suffix = new Option<string>("--suffix") { Description = "Up to 64 letters, digits, - or _, put in the new model's name", DefaultValueFactory = _ => "finnews" };
        var epochs = new Option<int?>("--epochs") { Description = "Training epochs, 1 to 50 (default: the API's choice)" };
        var batch = new Option<int?>("--batch-size") { Description = "Batch size, 1 to 256 (default: the API's choice)" };
        var rate = new Option<double?>("--learning-rate-multiplier") { Description = "Learning-rate multiplier, above 0 and at most 10 (default: the API's choice)" };
        var seed = new Option<int?>("--seed") { Description = "Seed for reproducible jobs" };
        var command = new Command("submit", "Upload the dataset and create a fine-tuning job (OpenAI SDK); the job id is recorded") { dataset, profile, model, suffix, epochs, batch, rate, seed };
        command.SetAction((parse, ct) => FinNewsCli.Guard(async () =>
        {
            var s = parse.GetValue(suffix)!;
            if (!SuffixPattern().IsMatch(s))
            {
                await Console.Error.WriteLineAsync($"--suffix '{s}' must be 1 to 64 letters, digits, '-' or '_'.");
                return 2;
            }

            if (parse.GetValue(epochs) is < 1 or > 50 || parse.GetValue(batch) is < 1 or > 256 || parse.GetValue(rate) is <= 0 or > 10)
            {
                await Console.Error.WriteLineAsync("--epochs must be 1 to 50, --batch-size 1 to 256, --learning-rate-multiplier above 0 and at most 10.");
                return 2;
            }

            using var host = AppHost.BuildTool(FinNewsCli.Paths(parse), FinNewsCli.Clock, parse.GetValue(FinNewsCli.VerboseOption));
            if (!TryProfile(host, parse.GetValue(profile)!, out var p))
            {
                return 2;
            }

            var folder = Path.GetFullPath(parse.GetValue(dataset) ?? Path.Combine(FinNewsCli.DataDirectory(host), DefaultDataset));
            var training = Path.Combine(folder, "train.jsonl");
            var validation = Path.Combine(folder, "validation.jsonl");
            if (!File.Exists(training))
            {
                await Console.Error.WriteLineAsync($"--dataset '{folder}' has no train.jsonl; build one with `finnews tune dataset`.");
                return 2;
            }

            var baseModel = parse.GetValue(model) ?? p.Model;
            var reports = new List<FormatReport> { FineTuningFormat.CheckFile(training, baseModel, training: true) };
            if (File.Exists(validation))
            {
                reports.Add(FineTuningFormat.CheckFile(validation, baseModel, training: false));
            }

            if (reports.Any(r => !r.Valid))
            {
                foreach (var e in reports.SelectMany(r => r.Errors))
                {
                    await Console.Error.WriteLineAsync($"  {e}");
                }

                await Console.Error.WriteLineAsync($"Not submitted: the dataset in {folder} does not meet OpenAI's fine-tuning format or limits for {baseModel} (above).");
                return 1;
            }

            var jobs = Client(p);
            if (jobs is null)
            {
                return 3;
            }

            try
            {
                var trainingId = await jobs.UploadAsync(training, ct);
                Console.WriteLine($"Uploaded {training} as {trainingId}.");
                string? validationId = null;
                if (File.Exists(validation))
                {
                    validationId = await jobs.UploadAsync(validation, ct);
                    Console.WriteLine($"Uploaded {validation} as {validationId}.");
                }

                var job = await jobs.CreateAsync(new TuningJobRequest(baseModel, s, parse.GetValue(epochs), parse.GetValue(batch), parse.GetValue(rate), parse.GetValue(seed)),
                    trainingId, validationId, ct);
                var now = FinNewsCli.Clock.GetUtcNow();
                Store(host).Add(new TuningJobRecord(job.Id, p.Name, job.Model, s, folder, job.Status, job.FineTunedModel, job.Error, null, now, now));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"Fine-tuning job {job.Id} created on {job.Model} ({reports[0].Examples} training examples, {reports[0].Tokens:N0} tokens per epoch): {job.Status}."));
                Console.WriteLine($"Follow it with: finnews tune status {job.Id} --wait");
                return 0;
            }
            catch (TuningApiException ex)
            {
                await Console.Error.WriteLineAsync($"{ex.Message} Nothing was changed in config/models.json.");
                return 1;
            }
        }));
        return command;
    }

    private static Command StatusCommand()
    {
        var job = JobArgument();
        var profile = ProfileOption();
        var wait = new Option<bool>("--wait") { Description = "Follow the job (printing its events) until it succeeds, fails or is cancelled" };
        var interval = new Option<int>("--interval") { Description = "Seconds between checks with --wait (1 to 3600)", DefaultValueFactory = _ => 30 };
        var command = new Command("status", "A job's status; when it has succeeded, its model becomes the 'candidate' profile in config/models.json") { job, profile, wait, interval };
        command.SetAction((parse, ct) => FinNewsCli.Guard(async () =>
        {
            if (!ValidJobId(parse.GetValue(job)!) || parse.GetValue(interval) is < 1 or > 3600)
            {
                await Console.Error.WriteLineAsync(parse.GetValue(interval) is < 1 or > 3600
                    ? $"--interval {parse.GetValue(interval)} must be 1 to 3600 seconds."
                    : $"'{parse.GetValue(job)}' is not a job id (e.g. ftjob-abc123).");
                return 2;
            }

            using var host = AppHost.BuildTool(FinNewsCli.Paths(parse), FinNewsCli.Clock, parse.GetValue(FinNewsCli.VerboseOption));
            var id = parse.GetValue(job)!;
            var store = Store(host);
            var profileName = store.Find(id)?.Profile ?? parse.GetValue(profile)!;
            if (!TryProfile(host, profileName, out var p) || Client(p) is not { } jobs)
            {
                return p is null ? 2 : 3;
            }

            try
            {
                var seen = new HashSet<string>(StringComparer.Ordinal);
                while (true)
                {
                    var info = await jobs.GetAsync(id, ct);
                    if (parse.GetValue(wait))
                    {
                        foreach (var e in (await jobs.EventsAsync(id, 100, ct)).Where(e => seen.Add(e.Id)))
                        {
                            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{e.CreatedAt:yyyy-MM-dd HH:mm:ss} {e.Level}: {e.Message}"));
                        }
                    }

                    store.Update(info, p.Name, FinNewsCli.Clock.GetUtcNow());
                    if (info.Finished || !parse.GetValue(wait))
                    {
                        return Report(host, store, p, info);
                    }

                    await Task.Delay(TimeSpan.FromSeconds(parse.GetValue(interval)), FinNewsCli.Clock, ct);
                }
            }
            catch (TuningApiException ex)
            {
                await Console.Error.WriteLineAsync(ex.Message);
                return 1;
            }
        }));
        return command;
    }

    // Prints a job's state; a succeeded job's model is written as the candidate profile. Exit 0 unless failed or cancelled.
    private static int Report(IHost host, ITuningJobStore store, ModelProfile profile, TuningJobInfo job)
    {
        var c = CultureInfo.InvariantCulture;
        var trained = job.TrainedTokens is { } t ? string.Create(c, $", {t:N0} tokens trained") : "";
        Console.WriteLine($"Job {job.Id} ({job.Model}{(job.Suffix is null ? "" : ", suffix " + job.Suffix)}): {job.Status}{trained}.");
        switch (job.Status)
        {
            case "succeeded" when job.FineTunedModel is { } model:
                var path = host.Services.GetRequiredService<AppPaths>().FromConfig("models.json");
                var profiles = host.Services.GetRequiredService<ModelProfiles>();
                var template = profiles.Find(ModelProfiles.Briefing) ?? profile;
                var change = ModelsFileEditor.AddOrSetProfile(path, CandidateProfile, template, model,
                    $"The model fine-tuning job {job.Id} produced on {FinNewsCli.Clock.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd", c)}: evaluate it, then promote it with `finnews models use briefing {model}`.");
                store.Update(job, profile.Name, FinNewsCli.Clock.GetUtcNow(), CandidateProfile);
                Console.WriteLine($"New model: {model}");
                Console.WriteLine(change.Changed
                    ? $"Recorded as the '{CandidateProfile}' profile in {path} (settings copied from '{template.Name}')."
                    : $"The '{CandidateProfile}' profile in {path} already names it.");
                Console.WriteLine($"Compare it: finnews eval answers --questions FILE --tuned {CandidateProfile}");
                Console.WriteLine($"Promote it: finnews models use {ModelProfiles.Briefing} {model}");
                return 0;
            case "failed":
                Console.Error.WriteLine($"Job {job.Id} failed: {job.Error ?? "the API gave no reason"}. config/models.json is unchanged.");
                return 1;
            case "cancelled":
                Console.Error.WriteLine($"Job {job.Id} was cancelled. config/models.json is unchanged.");
                return 1;
            default:
                Console.WriteLine($"Not finished; check again with `finnews tune status {job.Id}` (add --wait to follow it).");
                return 0;
        }
    }

    private static Command ListCommand()
    {
        var profile = ProfileOption();
        var limit = new Option<int>("--limit") { Description = "Most jobs, 1 to 100", DefaultValueFactory = _ => 20 };
        var command = new Command("list", "Fine-tuning jobs on the profile's account, newest first") { profile, limit };
        command.SetAction((parse, ct) => FinNewsCli.Guard(async () =>
        {
            if (parse.GetValue(limit) is < 1 or > 100)
            {
                await Console.Error.WriteLineAsync($"--limit {parse.GetValue(limit)} must be between 1 and 100.");
                return 2;
            }

            using var host = AppHost.BuildTool(FinNewsCli.Paths(parse), FinNewsCli.Clock, parse.GetValue(FinNewsCli.VerboseOption));
            if (!TryProfile(host, parse.GetValue(profile)!, out var p) || Client(p) is not { } jobs)
            {
                return p is null ? 2 : 3;
            }

            try
            {
                var table = new Table().AddColumns("Job", "Base model", "Status", "Fine-tuned model", "Created");
                foreach (var j in await jobs.ListAsync(parse.GetValue(limit), ct))
                {
                    table.AddRow(Markup.Escape(j.Id), Markup.Escape(j.Model), Markup.Escape(j.Status), Markup.Escape(j.FineTunedModel ?? "-"),
                        j.CreatedAt?.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) ?? "-");
                }

                AnsiConsole.Write(table);
                return 0;
            }
            catch (TuningApiException ex)
            {
                await Console.Error.WriteLineAsync(ex.Message);
                return 1;
            }
        }));
        return command;
    }

    private static Command EventsCommand()
    {
        var job = JobArgument();
        var profile = ProfileOption();
        var limit = new Option<int>("--limit") { Description = "Most events, 1 to 1000", DefaultValueFactory = _ => 50 };
        var command = new Command("events", "A job's events, oldest first") { job, profile, limit };
        command.SetAction((parse, ct) => WithJobs(parse, job, profile, async (jobs, id) =>
        {
            if (parse.GetValue(limit) is < 1 or > 1000)
            {
                await Console.Error.WriteLineAsync($"--limit {parse.GetValue(limit)} must be between 1 and 1000.");
                return 2;
            }

            foreach (var e in await jobs.EventsAsync(id, parse.GetValue(limit), ct))
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{e.CreatedAt:yyyy-MM-dd HH:mm:ss} {e.Level}: {e.Message}"));
            }

            return 0;
        }));
        return command;
    }

    private static Command CheckpointsCommand()
    {
        var job = JobArgument();
        var profile = ProfileOption();
        var command = new Command("checkpoints", "A job's checkpoints (models saved during training) with their losses") { job, profile };
        command.SetAction((parse, ct) => WithJobs(parse, job, profile, async (jobs, id) =>
        {
            var c = CultureInfo.InvariantCulture;
            foreach (var cp in await jobs.CheckpointsAsync(id, ct))
            {
                Console.WriteLine(string.Create(c, $"step {cp.Step}: {cp.Model} (train loss {cp.TrainLoss?.ToString("0.####", c) ?? "-"}, valid loss {cp.ValidLoss?.ToString("0.####", c) ?? "-"})"));
            }

            return 0;
        }));
        return command;
    }

    private static Command CancelCommand()
    {
        var job = JobArgument();
        var profile = ProfileOption();
        var command = new Command("cancel", "Cancel a job that has not finished") { job, profile };
        command.SetAction((parse, ct) => WithJobs(parse, job, profile, async (jobs, id) =>
        {
            var info = await jobs.CancelAsync(id, ct);
            Console.WriteLine($"Job {info.Id}: {info.Status}. config/models.json is unchanged.");
            return 0;
        }));
        return command;
    }

    /// <summary>`models use PROFILE MODEL_ID`: promotes a model into a profile, keeping the old id.</summary>
    public static Command ModelsUseCommand()
    {
        var profile = new Argument<string>("profile") { Description = "The profile to change (e.g. briefing)" };
        var model = new Argument<string>("model-id") { Description = "The model id it should use (e.g. ft:gpt-4o-mini-2024-07-18:org:finnews:abc123)" };
        var command = new Command("use", "Point a profile of config/models.json at another model (atomic edit; the old id is kept as previousModel and the old file as models.json.bak)") { profile, model };
        command.SetAction((parse, ct) => FinNewsCli.Guard(async () =>
        {
            var id = parse.GetValue(model)!;
            if (ModelsFileEditor.InvalidModelId(id) is { } bad)
            {
                await Console.Error.WriteLineAsync($"model-id: {bad}.");
                return 2;
            }

            var path = FinNewsCli.Paths(parse).FromConfig("models.json");
            if (!File.Exists(path))
            {
                await Console.Error.WriteLineAsync($"{path} does not exist; there is no profile to change.");
                return 2;
            }

            ModelsFileChange change;
            try
            {
                change = ModelsFileEditor.SetModel(path, parse.GetValue(profile)!, id);
            }
            catch (KeyNotFoundException ex)
            {
                await Console.Error.WriteLineAsync(ex.Message);
                return 2;
            }

            if (!change.Changed)
            {
                Console.WriteLine($"Profile {change.Profile} already uses {id}; {path} is unchanged.");
                return 0;
            }

            Console.WriteLine($"Profile {change.Profile} now uses {id} (was {change.OldModel}, kept as previousModel; the previous file is {change.Backup}).");
            Console.WriteLine($"To go back: finnews models use {change.Profile} {change.OldModel}");
            var updated = ModelProfiles.Load(path).Find(change.Profile)!;
            if (updated.NotConfiguredReason() is { } reason)
            {
                Console.WriteLine($"Note: {reason}; it is not used until that is fixed.");
            }

            return 0;
        }));
        return command;
    }

    /// <summary>`eval answers --questions FILE`.</summary>
    public static Command EvalAnswersCommand()
    {
        var questions = new Option<string>("--questions") { Description = "Question set, JSONL: id, question, asOf, expected facts, optional sources and answerable", Required = true };
        var baseProfile = new Option<string>("--base") { Description = "Profile of the untuned model", DefaultValueFactory = _ => ModelProfiles.Base };
        var tunedProfile = new Option<string>("--tuned") { Description = "Profile of the tuned model (briefing, or candidate after `tune status`)", DefaultValueFactory = _ => ModelProfiles.Briefing };
        var modes = new Option<string[]>("--mode") { Description = "closed-book, retrieval and/or tools (repeatable; default all three)", AllowMultipleArgumentsPerToken = true };
        var output = new Option<string?>("--out", "-o") { Description = "Folder for eval-answers.md, .json and .html (default: data/eval)" };
        var json = new Option<bool>("--json") { Description = "Print the JSON report instead of the Markdown tables" };
        var judgeProfile = new Option<string?>("--judge") { Description = "Profile of a judge model that grades every (sentence, cited source) pair, beside the validator's figure and ticker checks (e.g. judge)" };
        var command = new Command("answers", "Answer a question set with {extractive, base, tuned} x {closed-book, retrieval, tools}: facts, freshness, citations, figures, house style, latency, tokens and cost")
        {
            questions, baseProfile, tunedProfile, modes, output, json, judgeProfile,
        };
        command.SetAction((parse, ct) => FinNewsCli.Guard(async () =>
        {
            var file = parse.GetValue(questions)!;
            if (!File.Exists(file))
            {
                await Console.Error.WriteLineAsync($"--questions '{file}' is not a file.");
                return 2;
            }

            var chosen = parse.GetValue(modes) is { Length: > 0 } m ? m.Distinct(StringComparer.Ordinal).ToList() : [EvalModes.ClosedBook, EvalModes.Retrieval, EvalModes.Tools];
            if (chosen.FirstOrDefault(x => x is not (EvalModes.ClosedBook or EvalModes.Retrieval or EvalModes.Tools)) is { } unknown)
            {
                await Console.Error.WriteLineAsync($"--mode '{unknown}' must be closed-book, retrieval or tools.");
                return 2;
            }

            IReadOnlyList<EvalQuestion> set;
            try
            {
                set = EvalQuestions.Load(file);
            }
            catch (InvalidDataException ex)
            {
                await Console.Error.WriteLineAsync(ex.Message);
                return 2;
            }

            using var host = AppHost.BuildTool(FinNewsCli.Paths(parse), FinNewsCli.Clock, parse.GetValue(FinNewsCli.VerboseOption));
            var profiles = host.Services.GetRequiredService<ModelProfiles>();
            var models = new List<EvalModel>();
            foreach (var (label, name) in new[] { ("base", parse.GetValue(baseProfile)!), ("tuned", parse.GetValue(tunedProfile)!) })
            {
                if (profiles.Find(name) is null)
                {
                    await Console.Error.WriteLineAsync($"--{label} '{name}': no such profile in config/models.json; profiles: {string.Join(", ", profiles.All.Select(p => p.Name))}.");
                    return 2;
                }

                if (profiles.Configured(name, out var reason) is { } p)
                {
                    models.Add(new EvalModel(label, p));
                }
                else
                {
                    await Console.Error.WriteLineAsync($"Skipping {label}: {reason}.");
                }
            }

            CitationJudge? judge = null;
            if (parse.GetValue(judgeProfile) is { } judgeName)
            {
                if (profiles.Find(judgeName) is null)
                {
                    await Console.Error.WriteLineAsync($"--judge '{judgeName}': no such profile in config/models.json; profiles: {string.Join(", ", profiles.All.Select(p => p.Name))}.");
                    return 2;
                }

                if (profiles.Configured(judgeName, out var why) is not { } jp)
                {
                    await Console.Error.WriteLineAsync($"--judge '{judgeName}': {why}.");
                    return 2;
                }

                judge = new CitationJudge(ModelKernels.Build(jp, host.Services.GetRequiredService<TimeProvider>(), host.Services.GetRequiredService<CitationValidator>(),
                    host.Services.GetRequiredService<Relevance>(), host.Services.GetRequiredService<ILoggerFactory>()), jp);
            }

            var store = host.Services.GetRequiredService<IArticleStore>();
            if (store.CountArticles() == 0)
            {
                await Console.Error.WriteLineAsync($"No stored news in {host.Services.GetRequiredService<StorageLocation>().Display}: run `finnews ingest` first.");
                return 1;
            }

            var evaluator = new AnswerEvaluator(host.Services.GetRequiredService<ISearchIndex>(), store, host.Services.GetRequiredService<IMarketStore>(),
                host.Services.GetRequiredService<CitationValidator>(),
                host.Services.GetRequiredService<Relevance>(), host.Services.GetRequiredService<TimeProvider>(), host.Services.GetRequiredService<ILoggerFactory>());
            var report = await evaluator.RunAsync(set, models, chosen, new Progress(line => Console.Error.WriteLine(line)), ct, judge);
            var folder = Path.GetFullPath(parse.GetValue(output) ?? Path.Combine(FinNewsCli.DataDirectory(host), "eval"));
            Directory.CreateDirectory(folder);
            await File.WriteAllTextAsync(Path.Combine(folder, "eval-answers.md"), report.ToMarkdown(), ct);
            await File.WriteAllTextAsync(Path.Combine(folder, "eval-answers.json"), report.ToJson(), ct);
            await File.WriteAllTextAsync(Path.Combine(folder, "eval-answers.html"), report.ToHtml(), ct);
            Console.WriteLine(parse.GetValue(json) ? report.ToJson() : report.ToMarkdown());
            await Console.Error.WriteLineAsync($"Report written to {Path.Combine(folder, "eval-answers.md")} (.json, .html).");
            return 0;
        }));
        return command;
    }

    private static Task<int> WithJobs(ParseResult parse, Argument<string> job, Option<string> profile, Func<FineTuningJobs, string, Task<int>> action) =>
        FinNewsCli.Guard(async () =>
        {
            var id = parse.GetValue(job)!;
            if (!ValidJobId(id))
            {
                await Console.Error.WriteLineAsync($"'{id}' is not a job id (e.g. ftjob-abc123).");
                return 2;
            }

            using var host = AppHost.BuildTool(FinNewsCli.Paths(parse), FinNewsCli.Clock, parse.GetValue(FinNewsCli.VerboseOption));
            var profileName = Store(host).Find(id)?.Profile ?? parse.GetValue(profile)!;
            if (!TryProfile(host, profileName, out var p) || Client(p) is not { } jobs)
            {
                return p is null ? 2 : 3;
            }

            try
            {
                return await action(jobs, id);
            }
            catch (TuningApiException ex)
            {
                await Console.Error.WriteLineAsync(ex.Message);
                return 1;
            }
        });

    private static Argument<string> JobArgument() => new("job-id") { Description = "The fine-tuning job (ftjob-…)" };

    private static bool ValidJobId(string id) => JobIdPattern().IsMatch(id);

    private static ITuningJobStore Store(IHost host) => host.Services.GetRequiredService<ITuningJobStore>();

    private static bool TryProfile(IHost host, string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ModelProfile? profile)
    {
        var profiles = host.Services.GetRequiredService<ModelProfiles>();
        profile = profiles.Find(name);
        if (profile is null)
        {
            Console.Error.WriteLine($"--profile '{name}': no such profile in config/models.json; profiles: {string.Join(", ", profiles.All.Select(p => p.Name))}.");
        }

        return profile is not null;
    }

    // The jobs client on the profile's endpoint; null (after saying why) when its API key variable is not set.
    private static FineTuningJobs? Client(ModelProfile profile)
    {
        try
        {
            return new FineTuningJobs(profile, FinNewsCli.Clock);
        }
        catch (InvalidOperationException ex)
        {
            Console.Error.WriteLine($"Configuration error: {ex.Message}");
            return null;
        }
    }

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    private static partial Regex SuffixPattern();

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")]
    private static partial Regex JobIdPattern();

    private sealed class Progress(Action<string> write) : IProgress<string>
    {
        public void Report(string value) => write(value);
    }
}
