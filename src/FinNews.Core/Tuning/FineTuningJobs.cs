using System.ClientModel;
using System.ClientModel.Primitives;
using System.Globalization;
using System.Text.Json;
using FinNews.Core.Models;
using OpenAI;
using OpenAI.Files;
using OpenAI.FineTuning;

namespace FinNews.Core.Tuning;

/// <summary>A fine-tuning job as the API reports it (fields of the documented fine_tuning.job object).</summary>
/// <param name="Id">ftjob-… id.</param>
/// <param name="Model">Base model being tuned.</param>
/// <param name="Status">validating_files, queued, running, succeeded, failed or cancelled.</param>
/// <param name="FineTunedModel">The new model id (ft:…) once succeeded.</param>
/// <param name="Error">Why it failed (code: message), when it did.</param>
/// <param name="TrainedTokens">Billable tokens trained, once known.</param>
/// <param name="CreatedAt">When the job was created.</param>
/// <param name="FinishedAt">When it finished, if it did.</param>
/// <param name="TrainingFile">Training file id.</param>
/// <param name="ValidationFile">Validation file id, if any.</param>
/// <param name="Suffix">The suffix given at creation.</param>
public sealed record TuningJobInfo(string Id, string Model, string Status, string? FineTunedModel, string? Error, long? TrainedTokens,
    DateTimeOffset? CreatedAt, DateTimeOffset? FinishedAt, string? TrainingFile, string? ValidationFile, string? Suffix)
{
    /// <summary>True once the job can change no more (succeeded, failed, cancelled).</summary>
    public bool Finished => Status is "succeeded" or "failed" or "cancelled";
}

/// <summary>One event of a job (fine_tuning.job.event).</summary>
public sealed record TuningJobEvent(string Id, DateTimeOffset CreatedAt, string Level, string Message);

/// <summary>One checkpoint of a job (fine_tuning.job.checkpoint).</summary>
public sealed record TuningCheckpoint(string Id, string Model, int Step, double? TrainLoss, double? ValidLoss);

/// <summary>Hyperparameters and naming of a new job.</summary>
public sealed record TuningJobRequest(string Model, string? Suffix, int? Epochs, int? BatchSize, double? LearningRateMultiplier, int? Seed);

/// <summary>The API refused something (a file, a job); the message is the API's own, with the HTTP status.</summary>
public sealed class TuningApiException(string message, int status, Exception inner) : Exception(message, inner)
{
    /// <summary>HTTP status of the refusal (0: no response).</summary>
    public int Status { get; } = status;
}

/// <summary>
/// The OpenAI fine-tuning API through the official SDK: <see cref="OpenAIFileClient"/> uploads a JSONL file with purpose
/// <c>fine-tune</c>; <see cref="FineTuningClient"/> creates the job (supervised method, hyperparameters, suffix) and
/// reads, lists, cancels it and pages its events and checkpoints. The endpoint, key variable, timeout and retry policy
/// are a model profile's (<see cref="ModelClients.Options"/>), so a tuning job goes where that profile's model lives.
/// </summary>
/// <remarks>
/// Job fields are read from the documented JSON of each response (<c>GetRawResponse()</c>), which carries
/// <c>fine_tuned_model</c> and <c>error</c>; errors from the API become <see cref="TuningApiException"/> with the API's
/// message, never a stack trace.
/// </remarks>
#pragma warning disable OPENAI001 // FineTuningClient is marked experimental in OpenAI 2.15; its wire API is the stable v1 one.
public sealed class FineTuningJobs
{
    private readonly FineTuningClient _jobs;
    private readonly OpenAIFileClient _files;

    public FineTuningJobs(ModelProfile profile, TimeProvider time, Func<string, string?>? environment = null)
    {
        ArgumentNullException.ThrowIfNull(profile);
        var client = new OpenAIClient(new ApiKeyCredential(profile.ResolveApiKey(environment)), ModelClients.Options(profile, time));
        _jobs = client.GetFineTuningClient();
        _files = client.GetOpenAIFileClient();
    }

    /// <summary>Uploads a dataset file for fine-tuning; returns its file id.</summary>
    public async Task<string> UploadAsync(string path, CancellationToken cancellationToken)
    {
        var file = await Call(() => _files.UploadFileAsync(path, FileUploadPurpose.FineTune), $"upload of {Path.GetFileName(path)}");
        return file.Value.Id;
    }

    /// <summary>Creates a supervised fine-tuning job on uploaded files.</summary>
    public async Task<TuningJobInfo> CreateAsync(TuningJobRequest request, string trainingFileId, string? validationFileId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var options = new FineTuningOptions
        {
            Suffix = request.Suffix,
            ValidationFile = validationFileId,
            Seed = request.Seed,
            TrainingMethod = FineTuningTrainingMethod.CreateSupervised(
                request.BatchSize is { } b ? HyperparameterBatchSize.CreateSize(b) : HyperparameterBatchSize.CreateAuto(),
                request.Epochs is { } e ? HyperparameterEpochCount.CreateEpochCount(e) : HyperparameterEpochCount.CreateAuto(),
                request.LearningRateMultiplier is { } l ? HyperparameterLearningRate.CreateMultiplier(l) : HyperparameterLearningRate.CreateAuto()),
        };
        var job = await Call(() => _jobs.FineTuneAsync(request.Model, trainingFileId, waitUntilCompleted: false, options, cancellationToken), "job creation");
        return Read(job.GetRawResponse().Content);
    }

    /// <summary>The job now.</summary>
    public async Task<TuningJobInfo> GetAsync(string jobId, CancellationToken cancellationToken)
    {
        var job = await Call(() => _jobs.GetJobAsync(jobId, cancellationToken), $"job {jobId}");
        return Read(job.GetRawResponse().Content);
    }

    /// <summary>Asks the API to cancel the job; returns it as the cancel call reports it.</summary>
    public async Task<TuningJobInfo> CancelAsync(string jobId, CancellationToken cancellationToken)
    {
        var job = await Call(() => _jobs.GetJobAsync(jobId, cancellationToken), $"job {jobId}");
        var result = await Call(() => job.CancelAsync(new RequestOptions { CancellationToken = cancellationToken }), $"cancel of {jobId}");
        return Read(result.GetRawResponse().Content);
    }

    /// <summary>The newest jobs, newest first.</summary>
    public async Task<IReadOnlyList<TuningJobInfo>> ListAsync(int limit, CancellationToken cancellationToken)
    {
        var jobs = new List<TuningJobInfo>();
        await Call(async () =>
        {
            await foreach (var page in _jobs.GetJobsAsync(new FineTuningJobCollectionOptions { PageSize = Math.Min(limit, 100) }, cancellationToken).GetRawPagesAsync())
            {
                using var json = JsonDocument.Parse(page.GetRawResponse().Content);
                jobs.AddRange(json.RootElement.GetProperty("data").EnumerateArray().Select(Read));
                if (jobs.Count >= limit)
                {
                    break;
                }
            }

            return 0;
        }, "job list");
        return jobs.Take(limit).ToList();
    }

    /// <summary>The job's events, oldest first (the API pages them newest first).</summary>
    public async Task<IReadOnlyList<TuningJobEvent>> EventsAsync(string jobId, int limit, CancellationToken cancellationToken)
    {
        var job = await Call(() => _jobs.GetJobAsync(jobId, cancellationToken), $"job {jobId}");
        var events = new List<TuningJobEvent>();
        await Call(async () =>
        {
            await foreach (var page in job.GetEventsAsync(null, Math.Min(limit, 100), new RequestOptions { CancellationToken = cancellationToken }).GetRawPagesAsync())
            {
                using var json = JsonDocument.Parse(page.GetRawResponse().Content);
                events.AddRange(json.RootElement.GetProperty("data").EnumerateArray().Select(e => new TuningJobEvent(
                    e.GetProperty("id").GetString()!, Time(e, "created_at") ?? default, Text(e, "level") ?? "info", Text(e, "message") ?? "")));
                if (events.Count >= limit)
                {
                    break;
                }
            }

            return 0;
        }, $"events of {jobId}");
        return events.Take(limit).OrderBy(e => e.CreatedAt).ThenBy(e => e.Id, StringComparer.Ordinal).ToList();
    }

    /// <summary>The job's checkpoints, by step.</summary>
    public async Task<IReadOnlyList<TuningCheckpoint>> CheckpointsAsync(string jobId, CancellationToken cancellationToken)
    {
        var job = await Call(() => _jobs.GetJobAsync(jobId, cancellationToken), $"job {jobId}");
        var checkpoints = new List<TuningCheckpoint>();
        await Call(async () =>
        {
            await foreach (var page in job.GetCheckpointsAsync(null, 10, new RequestOptions { CancellationToken = cancellationToken }).GetRawPagesAsync())
            {
                using var json = JsonDocument.Parse(page.GetRawResponse().Content);
                foreach (var c in json.RootElement.GetProperty("data").EnumerateArray())
                {
                    var metrics = c.TryGetProperty("metrics", out var m) && m.ValueKind == JsonValueKind.Object ? m : default;
                    checkpoints.Add(new TuningCheckpoint(c.GetProperty("id").GetString()!, Text(c, "fine_tuned_model_checkpoint") ?? "",
                        c.TryGetProperty("step_number", out var s) && s.TryGetInt32(out var step) ? step : 0,
                        Number(metrics, "train_loss"), Number(metrics, "valid_loss")));
                }
            }

            return 0;
        }, $"checkpoints of {jobId}");
        return checkpoints.OrderBy(c => c.Step).ToList();
    }

    private static TuningJobInfo Read(BinaryData content)
    {
        using var json = JsonDocument.Parse(content);
        return Read(json.RootElement);
    }

    private static TuningJobInfo Read(JsonElement j)
    {
        string? error = null;
        if (j.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.Object && Text(e, "message") is { Length: > 0 } message)
        {
            error = Text(e, "code") is { Length: > 0 } code ? $"{code}: {message}" : message;
        }

        long? trained = j.TryGetProperty("trained_tokens", out var t) && t.ValueKind == JsonValueKind.Number ? t.GetInt64() : null;
        return new TuningJobInfo(Text(j, "id") ?? "", Text(j, "model") ?? "", Text(j, "status") ?? "unknown", Text(j, "fine_tuned_model"), error,
            trained, Time(j, "created_at"), Time(j, "finished_at"), Text(j, "training_file"), Text(j, "validation_file"), Text(j, "user_provided_suffix"));
    }

    private static string? Text(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static double? Number(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;

    private static DateTimeOffset? Time(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? DateTimeOffset.FromUnixTimeSeconds(v.GetInt64()) : null;

    // API refusals as TuningApiException carrying the API's own error message.
    private static async Task<T> Call<T>(Func<Task<T>> call, string what)
    {
        try
        {
            return await call();
        }
        catch (ClientResultException ex)
        {
            var message = ex.Message;
            if (ex.GetRawResponse()?.Content is { } body)
            {
                try
                {
                    using var json = JsonDocument.Parse(body);
                    if (json.RootElement.TryGetProperty("error", out var error) && Text(error, "message") is { Length: > 0 } m)
                    {
                        message = m;
                    }
                }
                catch (JsonException)
                {
                    // Not a JSON error body: the SDK's message stands.
                }
            }

            throw new TuningApiException(string.Create(CultureInfo.InvariantCulture, $"The fine-tuning API refused the {what} (HTTP {ex.Status}): {message}"), ex.Status, ex);
        }
    }
}
#pragma warning restore OPENAI001
