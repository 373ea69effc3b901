using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using FinNews.Tests.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FinNews.Tests.Support;

/// <summary>How a scripted model writes.</summary>
public enum AnswerPolicy
{
    /// <summary>Follows the house style, but adds a figure no source holds (and, closed-book, invents outright).</summary>
    StyledInventor,

    /// <summary>States what the first source says, faithfully, in headings, bullets, bold and exclamation marks.</summary>
    StyleIgnorer,

    /// <summary>Follows the house style with one faithful sentence, then adds a vague sentence (no figure, no ticker) that
    /// cites the same source without resting on it: nothing the validator can check, exactly what a judge is for.</summary>
    VagueCiter,
}

/// <summary>
/// A scripted OpenAI-compatible chat model on loopback (no hosted model exists here): POST /v1/chat/completions answered
/// with the documented chat.completion shapes (a text reply, or a tool-call reply asking for <c>news_search</c>) by a
/// fixed policy. With tools offered and no tool result yet it searches for the question; with sources (in the prompt or
/// in tool results) it answers from the first source's first sentence; with none it answers from "memory".
/// </summary>
public sealed partial class ScriptedAnswerModel : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly AnswerPolicy _policy;

    private ScriptedAnswerModel(WebApplication app, AnswerPolicy policy)
    {
        _app = app;
        _policy = policy;
    }

    /// <summary>Base URL including /v1/.</summary>
    public Uri Endpoint { get; private set; } = null!;

    public int Requests { get; private set; }

    public static async Task<ScriptedAnswerModel> StartAsync(AnswerPolicy policy)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var model = new ScriptedAnswerModel(app, policy);
        app.MapPost("/v1/chat/completions", model.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        model.Endpoint = new Uri(address.TrimEnd('/') + "/v1/");
        return model;
    }

    private async Task HandleAsync(HttpContext ctx)
    {
        Requests++;
        using var reader = new StreamReader(ctx.Request.Body);
        var body = await reader.ReadToEndAsync();
        using var doc = JsonDocument.Parse(body);
        var messages = ScriptedOpenAIServer.Messages(body);
        var tools = messages.Where(m => m.Role == "tool").Select(m => m.Content).ToList();
        var user = messages.First(m => m.Role == "user").Content;
        var question = QuestionLine().Match(user) is { Success: true } q ? q.Groups[1].Value : user;
        if (doc.RootElement.TryGetProperty("tools", out var offered) && offered.GetArrayLength() > 0 && tools.Count == 0)
        {
            await ScriptedOpenAIServer.Json(ctx, 200, ScriptedOpenAIServer.ToolCallCompletion(
                [("call_1", "news_search", JsonSerializer.Serialize(new { query = question }))]));
            return;
        }

        var sources = tools.Count > 0 ? string.Join("\n", tools) : user;
        var first = FirstSource().Match(sources);
        string reply;
        if (!first.Success)
        {
            reply = tools.Count > 0 || user.Contains("retrieved for this question", StringComparison.Ordinal)
                ? "The stored news does not say."
                : _policy switch
                {
                    AnswerPolicy.StyledInventor => "The company reported revenue of $5.2bn, up 12% on the year. Analysts had expected $4.9bn.",
                    AnswerPolicy.VagueCiter => "Investors remained cautious about the broader outlook.",
                    _ => "Sure! Here's what I know:\n- **Heads up:** I don't have live data, but this sounds exciting!",
                };
        }
        else
        {
            var n = first.Groups["n"].Value;
            var sentence = FirstSentence(WebUtility.HtmlDecode(first.Groups["body"].Value.Trim()));
            reply = _policy switch
            {
                AnswerPolicy.StyledInventor => $"{sentence.TrimEnd('.')} [{n}]. Analysts expect the figure to reach $12.5bn next year [{n}].",
                AnswerPolicy.VagueCiter => $"{sentence.TrimEnd('.')} [{n}]. Investors remained cautious about the broader outlook as sentiment shifted [{n}].",
                _ => $"## Answer\n\nGreat question! Here's what the news says:\n- **Key fact:** {sentence.TrimEnd('.')} [{n}]!\n\nHope this helps!",
            };
        }

        await ScriptedOpenAIServer.Json(ctx, 200, ScriptedOpenAIServer.ChatCompletion(reply, 300, 40, "gpt-4o-mini-2024-07-18"));
    }

    private static string FirstSentence(string text)
    {
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var body = lines.Length > 1 ? lines[1] : lines[0];
        var end = SentenceEnd().Match(body);
        return end.Success ? body[..(end.Index + 1)] : body;
    }

    [GeneratedRegex("^Question: (.*)$", RegexOptions.Multiline)]
    private static partial Regex QuestionLine();

    [GeneratedRegex("<source id=\"(?<n>\\d+)\"[^>]*>\\n(?<body>[\\s\\S]*?)</source>")]
    private static partial Regex FirstSource();

    [GeneratedRegex(@"[.!?](?=\s+[A-Z""“])")]
    private static partial Regex SentenceEnd();

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
