using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using FinNews.Core.Briefing;
using FinNews.Core.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FinNews.Bench;

/// <summary>
/// A loopback OpenAI-compatible chat endpoint for the benches (no model weights exist here): it answers in the
/// documented chat-completions shapes with a fixed policy, so the figures measure FinNews's own path through Semantic
/// Kernel (prompt rendering, tool calls, the project's services, token counting, the citation filter) over real HTTP,
/// not a model. Ask requests (with tools): round 1 calls <c>news_search</c> with the question; when the question asks
/// how shares reacted or what outlets said, round 2 calls <c>news_story_outlets</c> and <c>news_market_bars</c> in
/// parallel; the last round answers with the first sentence of the first source, cited. Writer requests (no tools):
/// one bullet, the first source's title, citing it. Usage figures in its replies are fixed (300 in / 20 out) and are
/// not reported as measurements; prompt tokens are counted by FinNews with the model family's tokenizer.
/// </summary>
internal sealed partial class ScriptedModel : IAsyncDisposable
{
    private readonly WebApplication _app;

    private ScriptedModel(WebApplication app) => _app = app;

    public Uri Endpoint { get; private set; } = null!;

    public int Requests { get; private set; }

    public static async Task<ScriptedModel> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var model = new ScriptedModel(app);
        app.MapPost("/v1/chat/completions", model.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        model.Endpoint = new Uri(address.TrimEnd('/') + "/v1/");
        return model;
    }

    public ModelProfile Profile() => new()
    {
        Name = ModelProfiles.Briefing,
        Enabled = true,
        Endpoint = Endpoint,
        Model = "gpt-4o-mini-2024-07-18",
        MaxRetries = 0,
        SupportsJsonSchema = true,
        Temperature = 0.2f,
        MaxOutputTokens = 800,
    };

    private async Task HandleAsync(HttpContext ctx)
    {
        Requests++;
        using var doc = await JsonDocument.ParseAsync(ctx.Request.Body);
        var root = doc.RootElement;
        var messages = root.GetProperty("messages").EnumerateArray().ToList();
        var tools = messages.Where(m => m.GetProperty("role").GetString() == "tool").Select(m => m.GetProperty("content").GetString() ?? "").ToList();
        var user = messages.First(m => m.GetProperty("role").GetString() == "user").GetProperty("content").GetString() ?? "";
        object reply;
        if (root.TryGetProperty("tools", out var offered) && offered.GetArrayLength() > 0)
        {
            var question = Regex.Match(user, "^Question: (.*)$", RegexOptions.Multiline).Groups[1].Value;
            var assistantRounds = messages.Count(m => m.GetProperty("role").GetString() == "assistant");
            var wantsOutlets = Regex.IsMatch(question, @"\b(react|outlet)", RegexOptions.IgnoreCase);
            if (assistantRounds == 0)
            {
                reply = ToolCalls([("call_1", "news_search", JsonSerializer.Serialize(new Dictionary<string, object> { ["query"] = question, ["limit"] = 5 }))]);
            }
            else if (assistantRounds == 1 && wantsOutlets && FirstSource(tools) is { } first && first.Ticker is { } ticker)
            {
                reply = ToolCalls([
                    ("call_2", "news_story_outlets", JsonSerializer.Serialize(new Dictionary<string, object> { ["id"] = first.Number.ToString(CultureInfo.InvariantCulture) })),
                    ("call_3", "news_market_bars", JsonSerializer.Serialize(new Dictionary<string, object> { ["symbol"] = ticker }))]);
            }
            else
            {
                reply = Text(FirstSource(tools) is { } s ? $"{s.Sentence} [{s.Number}]." : AnswerService.NoAnswer);
            }
        }
        else
        {
            var s = FirstSource([user]);
            reply = Text(JsonSerializer.Serialize(new Dictionary<string, object?>
            {
                ["bullets"] = s is null ? Array.Empty<object>() : new object[] { new Dictionary<string, object?> { ["headline"] = null, ["text"] = s.Title, ["citations"] = new[] { s.Number } } },
            }));
        }

        ctx.Response.ContentType = "application/json";
        await ctx.Response.WriteAsync(JsonSerializer.Serialize(reply));
    }

    private sealed record Found(int Number, string Title, string Sentence, string? Ticker);

    private static Found? FirstSource(IEnumerable<string> texts)
    {
        foreach (var text in texts)
        {
            var m = SourceBlock().Match(text);
            if (m.Success)
            {
                var body = WebUtility.HtmlDecode(m.Groups["body"].Value);
                var lines = body.Split('\n');
                var rest = lines.Length > 1 ? lines[1] : lines[0];
                var sentence = Regex.Match(rest, @"^.*?[.!?](?=\s|$)").Value.TrimEnd('.', '!', '?');
                var ticker = Regex.Match(m.Groups["attrs"].Value, "tickers=\"([A-Z]+)").Groups[1].Value;
                return new Found(int.Parse(m.Groups["n"].Value, CultureInfo.InvariantCulture), lines[0].TrimEnd('.'),
                    sentence.Length > 0 ? sentence : lines[0].TrimEnd('.'), ticker.Length > 0 ? ticker : null);
            }
        }

        return null;
    }

    private static object Text(string content) => new
    {
        id = "chatcmpl-bench", @object = "chat.completion", created = 1741569952, model = "gpt-4o-mini-2024-07-18",
        choices = new[] { new { index = 0, message = new { role = "assistant", content }, finish_reason = "stop" } },
        usage = new { prompt_tokens = 300, completion_tokens = 20, total_tokens = 320 },
    };

    private static object ToolCalls(IEnumerable<(string Id, string Name, string Arguments)> calls) => new
    {
        id = "chatcmpl-bench-tools", @object = "chat.completion", created = 1741569952, model = "gpt-4o-mini-2024-07-18",
        choices = new[]
        {
            new
            {
                index = 0,
                message = new { role = "assistant", content = (string?)null, tool_calls = calls.Select(c => new { id = c.Id, type = "function", function = new { name = c.Name, arguments = c.Arguments } }).ToArray() },
                finish_reason = "tool_calls",
            },
        },
        usage = new { prompt_tokens = 300, completion_tokens = 20, total_tokens = 320 },
    };

    /// <summary>`bench writer`, second part: the real LLM writer through the kernel against this endpoint.</summary>
    public static async Task WriterRunAsync(IReadOnlyList<SectionMaterial> material, CitationValidator validator, int runs)
    {
        await using var model = await StartAsync();
        var profile = model.Profile();
        var writer = new LlmWriter(ModelKernels.Build(profile, WriterBench.Clock, validator, new Relevance()), profile, validator,
            WriterBench.Clock, NullLogger<LlmWriter>.Instance);
        WriterReport? report = null;
        var times = new List<double>();
        for (var r = 0; r < runs + 2; r++)
        {
            var watch = Stopwatch.StartNew();
            report = (await writer.WriteWithReportAsync(material, CancellationToken.None)).Report;
            if (r >= 2)
            {
                times.Add(watch.Elapsed.TotalMilliseconds);
            }
        }

        times.Sort();
        Console.WriteLine();
        Console.WriteLine($"LlmWriter through Semantic Kernel against the loopback scripted endpoint ({profile.Model}, tokens {report!.TokenCount}):");
        Console.WriteLine("section      sources  left out  calls  counted prompt tokens  bullets");
        foreach (var s in report.Sections)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{s.Key,-12} {s.Sources,7} {s.SourcesLeftOut,9} {s.Calls,6} {s.CountedPromptTokens,22} {s.Bullets,8}"));
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"briefing: {report.ModelCalls} model calls, {report.CountedPromptTokens} counted prompt tokens; wall time per briefing ({runs} runs after 2 warm-up): p50 {times[times.Count / 2]:0.0} ms, p95 {times[(int)(times.Count * 0.95)]:0.0} ms"));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    [GeneratedRegex("<source id=\"(?<n>\\d+)\"(?<attrs>[^>]*)>\\n(?<body>.*?)\\n</source>", RegexOptions.Singleline)]
    private static partial Regex SourceBlock();
}
