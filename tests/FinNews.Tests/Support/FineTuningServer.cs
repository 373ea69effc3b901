using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FinNews.Tests.Support;

/// <summary>
/// A loopback stand-in for the OpenAI endpoints the SDK's file and fine-tuning clients call (Kestrel on 127.0.0.1:0):
/// POST /v1/files, POST /v1/fine_tuning/jobs, GET /v1/fine_tuning/jobs[/{id}[/events|/checkpoints]] and
/// POST /v1/fine_tuning/jobs/{id}/cancel. No hosted model exists here, so the bodies are replayed documented shapes of
/// the OpenAI REST API (file object, fine_tuning.job, fine_tuning.job.event, fine_tuning.job.checkpoint, list
/// envelopes, error object), not captured traffic. A job moves one state per read: validating_files, running, then
/// <see cref="Outcome"/> (succeeded with a fine_tuned_model, or failed with an error object).
/// </summary>
public sealed class FineTuningServer : IAsyncDisposable
{
    public const string TunedModel = "ft:gpt-4o-mini-2024-07-18:finnews-test:finnews:Bx7Kq2Lm";
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, int> _reads = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _cancelled = new(StringComparer.Ordinal);
    private int _files;

    private FineTuningServer(WebApplication app) => _app = app;

    /// <summary>Base URL including /v1/.</summary>
    public Uri Endpoint { get; private set; } = null!;

    /// <summary>Every request: method, path, Authorization header and body (uploads: the multipart text).</summary>
    public ConcurrentQueue<(string Method, string Path, string? Authorization, string Body)> Requests { get; } = new();

    /// <summary>"succeeded" or "failed": where a job ends.</summary>
    public string Outcome { get; set; } = "succeeded";

    /// <summary>When set, uploads are refused with this message (HTTP 400, the documented error object).</summary>
    public string? RejectUploads { get; set; }

    public static async Task<FineTuningServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var server = new FineTuningServer(app);
        app.Run(server.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.Endpoint = new Uri(address.TrimEnd('/') + "/v1/");
        return server;
    }

    private async Task HandleAsync(HttpContext ctx)
    {
        using var reader = new StreamReader(ctx.Request.Body);
        var body = await reader.ReadToEndAsync();
        var path = ctx.Request.Path.Value ?? "";
        Requests.Enqueue((ctx.Request.Method, path + ctx.Request.QueryString, ctx.Request.Headers.Authorization.ToString(), body));
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        switch (ctx.Request.Method, parts)
        {
            case ("POST", ["v1", "files"]):
                if (RejectUploads is { } message)
                {
                    await Json(ctx, 400, new { error = new { message, type = "invalid_request_error", param = "file", code = (string?)null } });
                    return;
                }

                var n = Interlocked.Increment(ref _files);
                await Json(ctx, 200, new
                {
                    id = $"file-test{n}", @object = "file", bytes = body.Length, created_at = 1763625600, filename = n == 1 ? "train.jsonl" : "validation.jsonl",
                    purpose = "fine-tune", status = "processed", status_details = (string?)null,
                });
                return;
            case ("POST", ["v1", "fine_tuning", "jobs"]):
                using (var request = JsonDocument.Parse(body))
                {
                    var r = request.RootElement;
                    _reads["ftjob-test1"] = 0;
                    await Json(ctx, 200, Job("ftjob-test1", "validating_files", r.GetProperty("model").GetString()!, r.GetProperty("training_file").GetString()!,
                        r.TryGetProperty("validation_file", out var v) ? v.GetString() : null, r.TryGetProperty("suffix", out var s) ? s.GetString() : null));
                }

                return;
            case ("GET", ["v1", "fine_tuning", "jobs"]):
                await Json(ctx, 200, new { @object = "list", data = new[] { Current("ftjob-test1", advance: false) }, has_more = false });
                return;
            case ("GET", ["v1", "fine_tuning", "jobs", var id]):
                await Json(ctx, 200, Current(id, advance: true));
                return;
            case ("POST", ["v1", "fine_tuning", "jobs", var id, "cancel"]):
                _cancelled[id] = true;
                await Json(ctx, 200, Current(id, advance: false));
                return;
            case ("GET", ["v1", "fine_tuning", "jobs", var id, "events"]):
                var events = new List<object>();
                var state = Status(id);
                void Event(int i, string level, string message) => events.Insert(0, new
                {
                    @object = "fine_tuning.job.event", id = $"ftevent-{i}", created_at = 1763625600 + i * 60, level, message, data = new { }, type = "message",
                });
                Event(1, "info", "Validating training file: file-test1");
                if (state is "running" or "succeeded")
                {
                    Event(2, "info", "Fine-tuning job started");
                    Event(3, "info", "Step 88/88: training loss=0.47");
                }

                if (state == "succeeded")
                {
                    Event(4, "info", $"New fine-tuned model created: {TunedModel}");
                    Event(5, "info", "The job has successfully completed");
                }

                if (state == "failed")
                {
                    Event(2, "error", "Training file has 3 example(s) with assistant messages that are not valid.");
                }

                if (state == "cancelled")
                {
                    Event(2, "info", "Job cancelled");
                }

                await Json(ctx, 200, new { @object = "list", data = events, has_more = false });
                return;
            case ("GET", ["v1", "fine_tuning", "jobs", var id, "checkpoints"]):
                await Json(ctx, 200, new
                {
                    @object = "list",
                    data = new[]
                    {
                        new
                        {
                            @object = "fine_tuning.job.checkpoint", id = "ftckpt_test88", created_at = 1763629200,
                            fine_tuned_model_checkpoint = TunedModel + ":ckpt-step-88", fine_tuning_job_id = id, step_number = 88,
                            metrics = new { step = 88, train_loss = 0.47, train_mean_token_accuracy = 0.91, valid_loss = 0.52, valid_mean_token_accuracy = 0.89 },
                        },
                    },
                    first_id = "ftckpt_test88", last_id = "ftckpt_test88", has_more = false,
                });
                return;
            default:
                await Json(ctx, 404, new { error = new { message = $"Unknown request URL: {ctx.Request.Method} {path}", type = "invalid_request_error", param = (string?)null, code = "unknown_url" } });
                return;
        }
    }

    private string Status(string id)
    {
        if (_cancelled.ContainsKey(id))
        {
            return "cancelled";
        }

        return _reads.GetValueOrDefault(id) switch { 0 => "validating_files", 1 => "running", _ => Outcome };
    }

    private object Current(string id, bool advance)
    {
        var status = Status(id);
        if (advance)
        {
            _reads.AddOrUpdate(id, 1, (_, n) => n + 1);
        }

        return Job(id, status, "gpt-4o-mini-2024-07-18", "file-test1", "file-test2", "finnews");
    }

    private static object Job(string id, string status, string model, string trainingFile, string? validationFile, string? suffix) => new
    {
        @object = "fine_tuning.job",
        id,
        model,
        created_at = 1763625600,
        finished_at = status is "succeeded" or "failed" or "cancelled" ? 1763629200 : (int?)null,
        fine_tuned_model = status == "succeeded" ? TunedModel : null,
        organization_id = "org-test",
        result_files = status == "succeeded" ? new[] { "file-result1" } : [],
        status,
        validation_file = validationFile,
        training_file = trainingFile,
        hyperparameters = new { n_epochs = 3, batch_size = 1, learning_rate_multiplier = 1.8 },
        method = new { type = "supervised", supervised = new { hyperparameters = new { n_epochs = 3, batch_size = 1, learning_rate_multiplier = 1.8 } } },
        trained_tokens = status == "succeeded" ? 91_245 : (int?)null,
        error = status == "failed"
            ? new { code = "invalid_training_file", message = "The job failed due to an invalid training file. Training file has 3 example(s) with assistant messages that are not valid.", param = "training_file" }
            : null,
        user_provided_suffix = suffix,
        seed = 42,
        estimated_finish = (int?)null,
        integrations = Array.Empty<object>(),
        metadata = (object?)null,
    };

    private static async Task Json(HttpContext ctx, int status, object body)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json";
        await ctx.Response.WriteAsync(JsonSerializer.Serialize(body));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
