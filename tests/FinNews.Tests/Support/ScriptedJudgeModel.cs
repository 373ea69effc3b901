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

/// <summary>
/// A scripted citation judge on loopback (no hosted model exists here): POST /v1/chat/completions answered in OpenAI's
/// documented chat.completion shape. It is not a language model: it reads the fenced sentence and source, takes the claim
/// (markup removed, and any lead-in up to a last ": " such as "Key fact: " dropped, as a reader would), and calls the pair
/// supported when at least 60 % of the claim's content words (4+ letters, not stop words) occur in the source.
/// With <c>garbled</c> it replies with prose instead of the JSON verdict, as a misbehaving model might.
/// </summary>
public sealed partial class ScriptedJudgeModel : IAsyncDisposable
{
    private static readonly HashSet<string> Stop = new(StringComparer.Ordinal)
    {
        "that", "this", "with", "from", "were", "have", "been", "their", "they", "said", "will", "would", "into", "over", "after", "about", "than",
        "which", "while", "also", "more", "most", "some", "such", "what", "when", "where",
    };

    private readonly WebApplication _app;
    private readonly bool _garbled;

    private ScriptedJudgeModel(WebApplication app, bool garbled)
    {
        _app = app;
        _garbled = garbled;
    }

    /// <summary>Base URL including /v1/.</summary>
    public Uri Endpoint { get; private set; } = null!;

    /// <summary>The user messages the judge was sent (what a model would see).</summary>
    public List<string> Prompts { get; } = [];

    public static async Task<ScriptedJudgeModel> StartAsync(bool garbled = false)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var model = new ScriptedJudgeModel(app, garbled);
        app.MapPost("/v1/chat/completions", model.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        model.Endpoint = new Uri(address.TrimEnd('/') + "/v1/");
        return model;
    }

    /// <summary>The scripted rule: share of the sentence's content words found in the source.</summary>
    public static bool Supports(string sentence, string source)
    {
        var claim = sentence.Replace("*", "", StringComparison.Ordinal).Replace("#", "", StringComparison.Ordinal);
        claim = claim.LastIndexOf(": ", StringComparison.Ordinal) is var colon and >= 0 ? claim[(colon + 2)..] : claim;
        var words = Words(claim).Distinct().ToList();
        var inSource = Words(source).ToHashSet(StringComparer.Ordinal);
        return words.Count > 0 && words.Count(inSource.Contains) >= 0.6 * words.Count;
    }

    private static IEnumerable<string> Words(string text) =>
        Word().Matches(text.ToLowerInvariant()).Select(m => m.Value).Where(w => w.Length >= 4 && !Stop.Contains(w));

    private async Task HandleAsync(HttpContext ctx)
    {
        using var reader = new StreamReader(ctx.Request.Body);
        var body = await reader.ReadToEndAsync();
        var user = ScriptedOpenAIServer.Messages(body).First(m => m.Role == "user").Content;
        lock (Prompts)
        {
            Prompts.Add(user);
        }

        var sentence = WebUtility.HtmlDecode(Block().Match(user) is { Success: true } s ? s.Groups["sentence"].Value : "");
        var source = WebUtility.HtmlDecode(Block().Match(user) is { Success: true } b ? b.Groups["source"].Value : "");
        var supported = Supports(sentence, source);
        var reply = _garbled
            ? "I think this is probably fine, the source talks about markets."
            : JsonSerializer.Serialize(new { supported, reason = supported ? "the source states it" : "the source does not state it" });
        await ScriptedOpenAIServer.Json(ctx, 200, ScriptedOpenAIServer.ChatCompletion(reply, 200, 12, "gpt-4o-mini-2024-07-18"));
    }

    [GeneratedRegex(@"<sentence>\n(?<sentence>[\s\S]*?)\n</sentence>[\s\S]*?<source>\n(?<source>[\s\S]*?)\n</source>")]
    private static partial Regex Block();

    [GeneratedRegex(@"[a-z0-9]+")]
    private static partial Regex Word();

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
