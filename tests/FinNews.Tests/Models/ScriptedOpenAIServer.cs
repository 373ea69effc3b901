using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using FinNews.Core.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FinNews.Tests.Models;

/// <summary>
/// A loopback OpenAI-compatible server (Kestrel on 127.0.0.1:0) that replays scripted responses in order and records
/// every request body, so tests drive the real OpenAI SDK HTTP stack. The response bodies are replayed documented
/// shapes of the OpenAI REST API (chat completion object, chat.completion.chunk SSE stream ending in <c>data: [DONE]</c>,
/// embedding list, error object), not captured traffic.
/// </summary>
public sealed class ScriptedOpenAIServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<Func<HttpContext, Task>> _script = new();

    private ScriptedOpenAIServer(WebApplication app) => _app = app;

    /// <summary>Bodies of every request received, in order, with the path.</summary>
    public ConcurrentQueue<(string Path, string Body)> Requests { get; } = new();

    /// <summary>Base URL including /v1.</summary>
    public Uri Endpoint { get; private set; } = null!;

    public static async Task<ScriptedOpenAIServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var server = new ScriptedOpenAIServer(app);
        app.Run(server.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.Endpoint = new Uri(address.TrimEnd('/') + "/v1/");
        return server;
    }

    public ScriptedOpenAIServer Then(Func<HttpContext, Task> step)
    {
        _script.Enqueue(step);
        return this;
    }

    public ScriptedOpenAIServer ThenChat(string content, int promptTokens = 50, int completionTokens = 20, string model = "ft:gpt-4o-mini-2024-07-18:finnews::abc123") =>
        Then(ctx => Json(ctx, 200, ChatCompletion(content, promptTokens, completionTokens, model)));

    public ScriptedOpenAIServer ThenStatus(int status, string? retryAfter = null) => Then(ctx =>
    {
        if (retryAfter is not null)
        {
            ctx.Response.Headers.RetryAfter = retryAfter;
        }

        return Json(ctx, status, new
        {
            error = new { message = $"scripted {status}", type = status == 429 ? "rate_limit_exceeded" : "server_error", param = (string?)null, code = (string?)null },
        });
    });

    /// <summary>Holds the request open far longer than any test timeout (a stalled upstream).</summary>
    public ScriptedOpenAIServer ThenStall() => Then(async ctx =>
    {
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(30), ctx.RequestAborted);
        }
        catch (OperationCanceledException)
        {
            // The client gave up, as it should.
        }
    });

    public int Remaining => _script.Count;

    /// <summary>What to answer once the script is used up (default: a 500 "script exhausted").</summary>
    public Func<HttpContext, Task>? Otherwise { get; set; }

    /// <summary>
    /// The documented tool-call reply: an assistant message with <c>content: null</c> and <c>tool_calls</c> (each
    /// <c>{id, type: "function", function: {name, arguments}}</c>, arguments a JSON string), <c>finish_reason: "tool_calls"</c>.
    /// Several calls in one reply are parallel tool calls.
    /// </summary>
    public ScriptedOpenAIServer ThenToolCalls(params (string Id, string Name, string Arguments)[] calls) =>
        Then(ctx => Json(ctx, 200, ToolCallCompletion(calls)));

    /// <summary>A chat reply written from the request body (e.g. citing the numbers the tool results got).</summary>
    public ScriptedOpenAIServer ThenChatFrom(Func<string, string> write, int promptTokens = 50, int completionTokens = 20) =>
        Then(ctx => Json(ctx, 200, ChatCompletion(write(Requests.Last().Body), promptTokens, completionTokens, "ft:gpt-4o-mini-2024-07-18:finnews::abc123")));

    public static object ToolCallCompletion(IReadOnlyList<(string Id, string Name, string Arguments)> calls) => new
    {
        id = "chatcmpl-tools-1",
        @object = "chat.completion",
        created = 1741569952,
        model = "ft:gpt-4o-mini-2024-07-18:finnews::abc123",
        choices = new[]
        {
            new
            {
                index = 0,
                message = new
                {
                    role = "assistant",
                    content = (string?)null,
                    tool_calls = calls.Select(c => new { id = c.Id, type = "function", function = new { name = c.Name, arguments = c.Arguments } }).ToArray(),
                    refusal = (string?)null,
                    annotations = Array.Empty<object>(),
                },
                logprobs = (object?)null,
                finish_reason = "tool_calls",
            },
        },
        usage = new { prompt_tokens = 300, completion_tokens = 18, total_tokens = 318 },
        system_fingerprint = "fp_fc9f1d7035",
    };

    /// <summary>The documented streaming shape of a tool call: a first chunk with the call's id, type and name, then
    /// argument fragments in <c>delta.tool_calls[].function.arguments</c>, then <c>finish_reason: "tool_calls"</c>.</summary>
    public ScriptedOpenAIServer ThenStreamToolCall(string id, string name, string arguments) => Then(async ctx =>
    {
        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = "text/event-stream";
        async Task Send(object chunk)
        {
            await ctx.Response.WriteAsync("data: " + JsonSerializer.Serialize(chunk) + "\n\n");
            await ctx.Response.Body.FlushAsync();
        }

        object Chunk(object delta, string? finish) => new
        {
            id = "chatcmpl-456", @object = "chat.completion.chunk", created = 1694268190, model = "gpt-4o-mini-2024-07-18",
            choices = new[] { new { index = 0, delta, logprobs = (object?)null, finish_reason = finish } },
        };

        await Send(Chunk(new { role = "assistant", content = (string?)null, tool_calls = new[] { new { index = 0, id, type = "function", function = new { name, arguments = "" } } } }, null));
        var half = arguments.Length / 2;
        foreach (var part in new[] { arguments[..half], arguments[half..] })
        {
            await Send(Chunk(new { tool_calls = new[] { new { index = 0, function = new { arguments = part } } } }, null));
        }

        await Send(Chunk(new { }, "tool_calls"));
        await ctx.Response.WriteAsync("data: [DONE]\n\n");
    });

    /// <summary>The messages of a request body as (role, content or tool calls, tool_call_id).</summary>
    public static List<(string Role, string Content)> Messages(string body)
    {
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("messages").EnumerateArray().Select(m =>
        {
            var role = m.GetProperty("role").GetString()!;
            var content = m.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString()!
                : m.TryGetProperty("content", out c) && c.ValueKind == JsonValueKind.Array ? string.Concat(c.EnumerateArray().Select(p => p.GetProperty("text").GetString()))
                : m.TryGetProperty("tool_calls", out var t) ? t.GetRawText() : "";
            return (role, content);
        }).ToList();
    }

    public ModelProfile Profile(bool jsonSchema = true, int maxRetries = 2, double timeoutSeconds = 10, int maxToolSteps = 5) => new()
    {
        Name = "briefing",
        Enabled = true,
        Endpoint = Endpoint,
        Model = "ft:gpt-4o-mini-2024-07-18:finnews::abc123",
        ApiKeyEnv = null,
        Timeout = TimeSpan.FromSeconds(timeoutSeconds),
        MaxRetries = maxRetries,
        RetryBaseDelay = TimeSpan.FromMilliseconds(20),
        MaxRetryDelay = TimeSpan.FromSeconds(2),
        SupportsJsonSchema = jsonSchema,
        Temperature = 0.2f,
        MaxOutputTokens = 800,
        MaxToolSteps = maxToolSteps,
    };

    /// <summary>The documented chat completion object (POST /v1/chat/completions, non-streaming).</summary>
    public static object ChatCompletion(string content, int promptTokens, int completionTokens, string model) => new
    {
        id = "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
        @object = "chat.completion",
        created = 1741569952,
        model,
        choices = new[]
        {
            new { index = 0, message = new { role = "assistant", content, refusal = (string?)null, annotations = Array.Empty<object>() }, logprobs = (object?)null, finish_reason = "stop" },
        },
        usage = new
        {
            prompt_tokens = promptTokens,
            completion_tokens = completionTokens,
            total_tokens = promptTokens + completionTokens,
            prompt_tokens_details = new { cached_tokens = 0, audio_tokens = 0 },
            completion_tokens_details = new { reasoning_tokens = 0, audio_tokens = 0, accepted_prediction_tokens = 0, rejected_prediction_tokens = 0 },
        },
        service_tier = "default",
        system_fingerprint = "fp_fc9f1d7035",
    };

    /// <summary>The documented streaming shape: chat.completion.chunk events, a final usage chunk with empty choices
    /// (stream_options.include_usage), then <c>data: [DONE]</c>.</summary>
    public ScriptedOpenAIServer ThenStream(IReadOnlyList<string> pieces, int promptTokens, int completionTokens) => Then(async ctx =>
    {
        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = "text/event-stream";
        const string model = "gpt-4o-mini-2024-07-18";
        async Task Send(object chunk)
        {
            await ctx.Response.WriteAsync("data: " + JsonSerializer.Serialize(chunk) + "\n\n");
            await ctx.Response.Body.FlushAsync();
        }

        object Chunk(object delta, string? finish) => new
        {
            id = "chatcmpl-123", @object = "chat.completion.chunk", created = 1694268190, model, system_fingerprint = "fp_44709d6fcb",
            choices = new[] { new { index = 0, delta, logprobs = (object?)null, finish_reason = finish } },
        };

        await Send(Chunk(new { role = "assistant", content = "" }, null));
        foreach (var piece in pieces)
        {
            await Send(Chunk(new { content = piece }, null));
        }

        await Send(Chunk(new { }, "stop"));
        await Send(new
        {
            id = "chatcmpl-123", @object = "chat.completion.chunk", created = 1694268190, model, system_fingerprint = "fp_44709d6fcb",
            choices = Array.Empty<object>(),
            usage = new { prompt_tokens = promptTokens, completion_tokens = completionTokens, total_tokens = promptTokens + completionTokens },
        });
        await ctx.Response.WriteAsync("data: [DONE]\n\n");
    });

    /// <summary>A streamed reply (documented chunk shape) whose pieces are written from the request body.</summary>
    public ScriptedOpenAIServer ThenStreamFrom(Func<string, IReadOnlyList<string>> write) => Then(async ctx =>
    {
        var pieces = write(Requests.Last().Body);
        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = "text/event-stream";
        async Task Send(object chunk)
        {
            await ctx.Response.WriteAsync("data: " + JsonSerializer.Serialize(chunk) + "\n\n");
            await ctx.Response.Body.FlushAsync();
        }

        object Chunk(object delta, string? finish) => new
        {
            id = "chatcmpl-789", @object = "chat.completion.chunk", created = 1694268190, model = "gpt-4o-mini-2024-07-18",
            choices = new[] { new { index = 0, delta, logprobs = (object?)null, finish_reason = finish } },
        };

        await Send(Chunk(new { role = "assistant", content = "" }, null));
        foreach (var piece in pieces)
        {
            await Send(Chunk(new { content = piece }, null));
        }

        await Send(Chunk(new { }, "stop"));
        await ctx.Response.WriteAsync("data: [DONE]\n\n");
    });

    /// <summary>The number and first line (title) of the first source block in the tool messages of a request.</summary>
    public static (int Number, string Title) FirstToolSource(string body)
    {
        var tools = string.Join("\n", Messages(body).Where(m => m.Role == "tool").Select(m => m.Content));
        var m = System.Text.RegularExpressions.Regex.Match(tools, "<source id=\"(\\d+)\"[^>]*>\n([^\n]*)");
        return (int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), System.Net.WebUtility.HtmlDecode(m.Groups[2].Value));
    }

    /// <summary>The documented embedding list (POST /v1/embeddings); the vector of input i is [i, i+0.5, ...].</summary>
    public ScriptedOpenAIServer ThenEmbeddings(int count, int dimensions, bool reversed = false) => Then(ctx =>
    {
        var data = Enumerable.Range(0, count)
            .Select(i => new { @object = "embedding", index = i, embedding = Enumerable.Range(0, dimensions).Select(d => i + d * 0.5f).ToArray() });
        return Json(ctx, 200, new
        {
            @object = "list",
            data = reversed ? data.Reverse().ToArray() : data.ToArray(),
            model = "text-embedding-3-small",
            usage = new { prompt_tokens = 8 * count, total_tokens = 8 * count },
        });
    });

    private async Task HandleAsync(HttpContext ctx)
    {
        using var reader = new StreamReader(ctx.Request.Body, Encoding.UTF8);
        Requests.Enqueue((ctx.Request.Path.Value ?? "", await reader.ReadToEndAsync()));
        if (!_script.TryDequeue(out var step))
        {
            if (Otherwise is { } otherwise)
            {
                await otherwise(ctx);
                return;
            }

            await Json(ctx, 500, new { error = new { message = "script exhausted", type = "server_error" } });
            return;
        }

        await step(ctx);
    }

    public static async Task Json(HttpContext ctx, int status, object body)
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
