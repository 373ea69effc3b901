using System.Collections.Concurrent;
using Microsoft.ML.Tokenizers;

namespace FinNews.Core.Models;

/// <summary>
/// Token counts for a model's family with Microsoft.ML.Tokenizers: <c>o200k_base</c> for gpt-4o, gpt-4.1, gpt-4.5,
/// gpt-5 and the o-series, <c>cl100k_base</c> for gpt-4, gpt-3.5 and the text-embedding-3/ada-002 models. Fine-tuned
/// ids (<c>ft:gpt-4o-mini-2024-07-18:org::id</c>) count as their base model. Any other model (a LoRA on vLLM, an Ollama
/// tag) gets an estimate, characters / 4 rounded up, and says so in <see cref="Exact"/> and <see cref="Encoding"/>.
/// </summary>
public sealed class ModelTokenizer
{
    /// <summary>What <see cref="Encoding"/> says for models without a known tokenizer.</summary>
    public const string EstimateEncoding = "estimate (chars/4)";

    private static readonly ConcurrentDictionary<string, Tokenizer> Encodings = new(StringComparer.Ordinal);

    private readonly Tokenizer? _tokenizer;

    private ModelTokenizer(string model, string encoding, Tokenizer? tokenizer)
    {
        Model = model;
        Encoding = encoding;
        _tokenizer = tokenizer;
    }

    /// <summary>The model id as configured.</summary>
    public string Model { get; }

    /// <summary><c>o200k_base</c>, <c>cl100k_base</c>, or <see cref="EstimateEncoding"/>.</summary>
    public string Encoding { get; }

    /// <summary>True when counts are the model's own tokenizer's; false for the labelled estimate.</summary>
    public bool Exact => _tokenizer is not null;

    /// <summary>The counter for a model id.</summary>
    public static ModelTokenizer For(string model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var encoding = EncodingOf(model);
        return encoding is null
            ? new ModelTokenizer(model, EstimateEncoding, null)
            : new ModelTokenizer(model, encoding, Encodings.GetOrAdd(encoding, e => TiktokenTokenizer.CreateForEncoding(e)));
    }

    /// <summary>The base model of a fine-tuned id (<c>ft:BASE:org:suffix:id</c>), else the id itself, lower-cased.</summary>
    public static string BaseModel(string model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var m = model.Trim().ToLowerInvariant();
        if (m.StartsWith("ft:", StringComparison.Ordinal))
        {
            m = m[3..];
            var colon = m.IndexOf(':', StringComparison.Ordinal);
            m = colon < 0 ? m : m[..colon];
        }

        // "openai/gpt-4o" style names from proxies.
        var slash = m.LastIndexOf('/');
        return slash < 0 ? m : m[(slash + 1)..];
    }

    /// <summary>The tiktoken encoding of a model family, or null when unknown.</summary>
    public static string? EncodingOf(string model)
    {
        var m = BaseModel(model);
        if (m.StartsWith("gpt-4o", StringComparison.Ordinal) || m.StartsWith("chatgpt-4o", StringComparison.Ordinal)
            || m.StartsWith("gpt-4.1", StringComparison.Ordinal) || m.StartsWith("gpt-4.5", StringComparison.Ordinal)
            || m.StartsWith("gpt-5", StringComparison.Ordinal) || IsOSeries(m))
        {
            return "o200k_base";
        }

        if (m.StartsWith("gpt-4", StringComparison.Ordinal) || m.StartsWith("gpt-3.5", StringComparison.Ordinal)
            || m.StartsWith("text-embedding-3", StringComparison.Ordinal) || m == "text-embedding-ada-002")
        {
            return "cl100k_base";
        }

        return null;
    }

    /// <summary>The documented context window of a model family in tokens; 8,192 (a small, safe window) when unknown.</summary>
    public static int DefaultContextWindow(string model)
    {
        var m = BaseModel(model);
        return m switch
        {
            _ when m.StartsWith("gpt-4.1", StringComparison.Ordinal) => 1_047_576,
            _ when m.StartsWith("gpt-5", StringComparison.Ordinal) => 400_000,
            _ when IsOSeries(m) && !m.StartsWith("o1-mini", StringComparison.Ordinal) => 200_000,
            _ when m.StartsWith("gpt-4o", StringComparison.Ordinal) || m.StartsWith("chatgpt-4o", StringComparison.Ordinal)
                || m.StartsWith("gpt-4.5", StringComparison.Ordinal) || m.StartsWith("o1-mini", StringComparison.Ordinal)
                || m.StartsWith("gpt-4-turbo", StringComparison.Ordinal) || m.StartsWith("gpt-4-1106", StringComparison.Ordinal)
                || m.StartsWith("gpt-4-0125", StringComparison.Ordinal) => 128_000,
            _ when m.StartsWith("gpt-4-32k", StringComparison.Ordinal) => 32_768,
            _ when m.StartsWith("gpt-4", StringComparison.Ordinal) => 8_192,
            _ when m.StartsWith("gpt-3.5", StringComparison.Ordinal) => 16_385,
            _ => 8_192,
        };
    }

    /// <summary>Tokens of a text.</summary>
    public int Count(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return 0;
        }

        return _tokenizer?.CountTokens(text) ?? (text.Length + 3) / 4;
    }

    /// <summary>
    /// Prompt tokens of a chat request as OpenAI counts them for these families: per message 3 tokens of framing plus
    /// the role and the content, plus 3 that prime the reply. Tool definitions sent with a request are not included.
    /// </summary>
    public int CountChat(IEnumerable<(string Role, string Content)> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        return messages.Sum(m => 3 + Count(m.Role) + Count(m.Content)) + 3;
    }

    private static bool IsOSeries(string m) => m.Length >= 2 && m[0] == 'o' && char.IsAsciiDigit(m[1]);
}

/// <summary>The outcome of fitting ranked texts into a token budget.</summary>
/// <param name="Kept">How many of the ranked texts fit (always the first ones).</param>
/// <param name="LeftOut">How many lower-ranked texts were left out.</param>
/// <param name="Tokens">Tokens of the kept texts.</param>
public sealed record BudgetFit(int Kept, int LeftOut, int Tokens)
{
    /// <summary>A reader-facing note when something was left out, else null.</summary>
    public string? Note(string what) => LeftOut == 0
        ? null
        : $"{LeftOut} lower-ranked {what} left out to fit the model's context budget.";
}

/// <summary>
/// A per-call context budget: texts are taken whole, in rank order, while they fit; the first that does not fit and
/// everything ranked below it are left out. Nothing is cut, so no source reaches the model mid-sentence, and the total
/// never passes the budget.
/// </summary>
public static class ContextBudget
{
    /// <summary>Fits ranked texts into <paramref name="budgetTokens"/>.</summary>
    public static BudgetFit Fit(IReadOnlyList<string> rankedTexts, int budgetTokens, ModelTokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(rankedTexts);
        ArgumentNullException.ThrowIfNull(tokenizer);
        var used = 0;
        for (var i = 0; i < rankedTexts.Count; i++)
        {
            var tokens = tokenizer.Count(rankedTexts[i]);
            if (used + tokens > budgetTokens)
            {
                return new BudgetFit(i, rankedTexts.Count - i, used);
            }

            used += tokens;
        }

        return new BudgetFit(rankedTexts.Count, 0, used);
    }

    /// <summary>The tokens left for sources in one call: the window less the reply allowance and the fixed prompt.</summary>
    public static int ForSources(ModelProfile profile, int fixedPromptTokens)
    {
        ArgumentNullException.ThrowIfNull(profile);
        var reply = profile.MaxOutputTokens ?? 1024;
        // A small margin for the tool definitions and message framing that are not counted one by one.
        const int margin = 256;
        return Math.Max(0, profile.EffectiveContextWindow - reply - fixedPromptTokens - margin);
    }
}
