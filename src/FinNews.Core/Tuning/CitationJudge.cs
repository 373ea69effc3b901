using System.Text.Json;
using FinNews.Core.Briefing;
using FinNews.Core.Models;
using Microsoft.Extensions.AI;
using Microsoft.SemanticKernel;

namespace FinNews.Core.Tuning;

/// <summary>A judge's grade of one (sentence, cited source) pair.</summary>
public enum JudgeVerdict
{
    /// <summary>The source states what the sentence claims.</summary>
    Supported,

    /// <summary>The source does not (or only shares a topic with the sentence).</summary>
    Unsupported,

    /// <summary>The judge's reply could not be read as a verdict, or the call failed: counted apart, never as supported.</summary>
    Unclear,
}

/// <summary>What the judge said about the citations of one answer, and what judging cost.</summary>
public sealed record JudgeOutcome(int Pairs, int Supported, int Unsupported, int Unclear, int ValidatorPassedJudgeRejected, int BothSupported,
    long PromptTokens, long CompletionTokens, decimal? Cost, string? Error);

/// <summary>
/// A language-model judge for citations (the <c>judge</c> profile of config/models.json, chosen with
/// <c>eval answers --judge PROFILE</c>): for each sentence and each source it cites, one call asks whether the source
/// states what the sentence claims. It complements the <see cref="CitationValidator"/>, which can only check figures and
/// tickers: a vague sentence with no figure that cites an unrelated source passes the validator and fails the judge.
/// </summary>
/// <remarks>
/// The sentence and the source are untrusted (model output and feed text): both are entity-escaped inside fenced blocks
/// that the system prompt declares to be data. The reply is parsed strictly (a JSON object with a boolean
/// <c>supported</c>); anything else is <see cref="JudgeVerdict.Unclear"/>, which never counts as support.
/// </remarks>
public sealed class CitationJudge
{
    private readonly Kernel _kernel;
    private readonly ModelProfile _profile;

    public CitationJudge(Kernel kernel, ModelProfile profile)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        ArgumentNullException.ThrowIfNull(profile);
        _kernel = kernel;
        _profile = profile;
    }

    /// <summary>The judge's profile name and model, for the report.</summary>
    public string Describe => $"{_profile.Name} ({_profile.Model})";

    /// <summary>The user message for one pair (public so tests can see exactly what the judge is shown).</summary>
    public static string Prompt(string sentence, string source)
    {
        ArgumentNullException.ThrowIfNull(sentence);
        ArgumentNullException.ThrowIfNull(source);
        return $"<sentence>\n{LlmWriter.Escape(sentence)}\n</sentence>\n\n<source>\n{LlmWriter.Escape(source)}\n</source>\n\nDoes the source state what the sentence claims?";
    }

    /// <summary>Reads a judge's reply: a JSON object (optionally fenced as a code block) with a boolean <c>supported</c>.</summary>
    public static JudgeVerdict Parse(string? reply)
    {
        if (string.IsNullOrWhiteSpace(reply))
        {
            return JudgeVerdict.Unclear;
        }

        var start = reply.IndexOf('{', StringComparison.Ordinal);
        var end = reply.LastIndexOf('}');
        if (start < 0 || end <= start || end - start > 4_000)
        {
            return JudgeVerdict.Unclear;
        }

        try
        {
            using var doc = JsonDocument.Parse(reply.AsMemory(start, end - start + 1));
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("supported", out var s)
                ? s.ValueKind switch
                {
                    JsonValueKind.True => JudgeVerdict.Supported,
                    JsonValueKind.False => JudgeVerdict.Unsupported,
                    _ => JudgeVerdict.Unclear,
                }
                : JudgeVerdict.Unclear;
        }
        catch (JsonException)
        {
            return JudgeVerdict.Unclear;
        }
    }

    /// <summary>Grades every (sentence, cited source) pair of an answer; each pair also says whether the validator passed
    /// it, to count where the two disagree.</summary>
    public async Task<JudgeOutcome> JudgeAsync(IReadOnlyList<(string Sentence, string Source, bool ValidatorPassed)> pairs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        int supported = 0, unsupported = 0, unclear = 0, disagreements = 0, both = 0;
        string? error = null;
        var ledger = new TokenLedger();
        var chat = _kernel.GetRequiredService<IChatClient>();
        var options = new ChatOptions { Temperature = 0, MaxOutputTokens = 80 };
        using (TokenLedger.Begin(ledger))
        {
            foreach (var (sentence, source, validatorPassed) in pairs)
            {
                JudgeVerdict verdict;
                try
                {
                    var response = await chat.GetResponseAsync(
                        [new ChatMessage(ChatRole.System, PromptLibrary.Text("judge")), new ChatMessage(ChatRole.User, Prompt(sentence, source))],
                        options, cancellationToken);
                    verdict = Parse(response.Text);
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
                {
                    error ??= LlmWriter.Describe(ex);
                    verdict = JudgeVerdict.Unclear;
                }

                switch (verdict)
                {
                    case JudgeVerdict.Supported:
                        supported++;
                        both += validatorPassed ? 1 : 0;
                        break;
                    case JudgeVerdict.Unsupported:
                        unsupported++;
                        disagreements += validatorPassed ? 1 : 0;
                        break;
                    default:
                        unclear++;
                        break;
                }
            }
        }

        var prompt = ledger.CountedPromptTokens.Sum();
        decimal? cost = _profile is { InputPricePerMillionTokens: { } pin, OutputPricePerMillionTokens: { } pout }
            ? (prompt * pin + ledger.OutputTokens * pout) / 1_000_000m
            : null;
        return new JudgeOutcome(pairs.Count, supported, unsupported, unclear, disagreements, both, prompt, ledger.OutputTokens, cost, error);
    }
}
