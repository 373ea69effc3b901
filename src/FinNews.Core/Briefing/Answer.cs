using System.Text.Json;
using System.Text.Json.Serialization;

namespace FinNews.Core.Briefing;

/// <summary>An answer to a question, written from stored articles, every sentence citing the sources it rests on.</summary>
/// <param name="Question">The question as asked.</param>
/// <param name="AsOf">Point in time of the answer: only articles published and first seen before it were used (null: now).</param>
/// <param name="Text">The sentences joined, each with its <c>[n]</c> markers (or "The stored news does not say.").</param>
/// <param name="Sentences">The sentences that passed the citation checks, with their source numbers.</param>
/// <param name="Sources">The numbered sources (numbers as cited).</param>
/// <param name="Writer"><c>llm</c> or <c>extractive</c>.</param>
/// <param name="Model">Model id when a language model wrote it.</param>
/// <param name="Notes">Facts a reader must know (fallbacks, removed sentences).</param>
/// <param name="Dropped">Model sentences removed because they failed citation checks after the repair round.</param>
/// <param name="InputTokens">Prompt tokens reported by the endpoint (0 for extractive answers).</param>
/// <param name="OutputTokens">Completion tokens reported by the endpoint.</param>
/// <param name="LatencyMs">Time spent in model calls.</param>
/// <param name="Tools">The tool calls that ran (the model's, or the extractive answer's one search), in order: what was
/// searched, with which filters, and the numbers of the sources each returned.</param>
/// <param name="PromptTokens">Prompt tokens counted before each model call with the model family's tokenizer, all calls.</param>
/// <param name="TokenCount">How <see cref="PromptTokens"/> was counted: the encoding (o200k_base, cl100k_base) or
/// "estimate (chars/4)" for models without a known tokenizer; null without a model.</param>
/// <param name="ModelCalls">Round trips to the model.</param>
public sealed record Answer(
    string Question,
    DateTimeOffset? AsOf,
    string Text,
    IReadOnlyList<AnswerSentence> Sentences,
    IReadOnlyList<BriefingSource> Sources,
    string Writer,
    string? Model,
    IReadOnlyList<string> Notes,
    IReadOnlyList<DroppedSentence> Dropped,
    long InputTokens,
    long OutputTokens,
    long LatencyMs,
    IReadOnlyList<FinNews.Core.Models.ToolStep>? Tools = null,
    long PromptTokens = 0,
    string? TokenCount = null,
    int ModelCalls = 0)
{
    /// <summary>Looks up a source by its citation number.</summary>
    public BriefingSource? Source(int number) => Sources.FirstOrDefault(s => s.Number == number);
}

/// <summary>One sentence of an answer and the numbers of the sources it cites.</summary>
public sealed record AnswerSentence(string Text, IReadOnlyList<int> Citations);

/// <summary>A sentence the model wrote that was removed, and why.</summary>
public sealed record DroppedSentence(string Text, IReadOnlyList<string> Reasons);

/// <summary>
/// One event of a streamed answer: <c>tool</c> carries a tool call as it completes, <c>delta</c> carries text as it is
/// written (model text before validation), <c>done</c> carries the validated <see cref="Answer"/>, whose
/// <see cref="Answer.Text"/> replaces everything streamed before.
/// </summary>
public sealed record AnswerEvent(string Type, string? Delta, Answer? Final, FinNews.Core.Models.ToolStep? Tool = null)
{
    /// <summary>The <see cref="Type"/> of a tool event.</summary>
    public const string ToolType = "tool";

    /// <summary>A tool event.</summary>
    public static AnswerEvent ForTool(FinNews.Core.Models.ToolStep step) => new(ToolType, null, null, step);

    /// <summary>The <see cref="Type"/> of a text event.</summary>
    public const string DeltaType = "delta";

    /// <summary>The <see cref="Type"/> of the final event.</summary>
    public const string DoneType = "done";

    /// <summary>A text event.</summary>
    public static AnswerEvent ForDelta(string delta) => new(DeltaType, delta, null);

    /// <summary>The final event.</summary>
    public static AnswerEvent ForDone(Answer answer) => new(DoneType, null, answer);
}

/// <summary>Compact web-style JSON for answers (one line: fit for an SSE <c>data:</c> field).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(Answer))]
[JsonSerializable(typeof(AnswerEvent))]
public sealed partial class AnswerJsonContext : JsonSerializerContext;
