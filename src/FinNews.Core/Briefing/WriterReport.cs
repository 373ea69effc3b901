namespace FinNews.Core.Briefing;

/// <summary>A writer that also reports how it wrote: model, tokens, latency, validation and dropped statements.</summary>
/// <remarks>The composer calls <see cref="WriteWithReportAsync"/> when the writer offers it and stores the report with
/// the briefing; <see cref="IBriefingWriter.WriteAsync"/> stays for callers that only want the sections.</remarks>
public interface IReportingBriefingWriter : IBriefingWriter
{
    /// <summary>Writes every section and reports on the run.</summary>
    Task<WriterOutcome> WriteWithReportAsync(IReadOnlyList<SectionMaterial> material, CancellationToken cancellationToken);
}

/// <summary>Sections plus the report of the run that wrote them.</summary>
public sealed record WriterOutcome(IReadOnlyList<DraftSection> Sections, WriterReport Report);

/// <summary>How a briefing was written, for storage with it (DESIGN.md: model, tokens, latency, dropped bullets).</summary>
/// <param name="Writer">"llm" when the model wrote every section, "extractive" when all fell back, "llm+extractive" when mixed.</param>
/// <param name="Profile">Model profile name (briefing).</param>
/// <param name="Model">Model id as the endpoint reported it (else as configured).</param>
/// <param name="InputTokens">Prompt tokens the endpoint reported, all calls.</param>
/// <param name="OutputTokens">Completion tokens the endpoint reported, all calls.</param>
/// <param name="ModelCalls">Chat calls made (first rounds plus repairs; retries inside a call are not counted).</param>
/// <param name="LatencyMs">Wall time spent in model calls.</param>
/// <param name="ValidatorMs">Time spent in the citation validator.</param>
/// <param name="Notes">Reader-facing facts (fallbacks); the composer adds them to the briefing's notes.</param>
/// <param name="Dropped">Statements removed after the repair round, with why.</param>
/// <param name="Sections">Per-section figures (for benches and the eval).</param>
/// <param name="CountedPromptTokens">Prompt tokens counted before each call with the model family's tokenizer, all calls.</param>
/// <param name="TokenCount">How they were counted: o200k_base, cl100k_base, or "estimate (chars/4)" for unknown models.</param>
public sealed record WriterReport(
    string Writer,
    string? Profile,
    string? Model,
    long InputTokens,
    long OutputTokens,
    int ModelCalls,
    long LatencyMs,
    double ValidatorMs,
    IReadOnlyList<string> Notes,
    IReadOnlyList<DroppedBullet> Dropped,
    IReadOnlyList<SectionRun> Sections,
    long CountedPromptTokens = 0,
    string? TokenCount = null);

/// <summary>A statement the validator rejected twice (or that could not be repaired), kept for review.</summary>
/// <param name="Section">Section key.</param>
/// <param name="Text">The statement as the model wrote it, citations included as [n].</param>
/// <param name="Reasons">Why it was rejected.</param>
public sealed record DroppedBullet(string Section, string Text, IReadOnlyList<string> Reasons);

/// <summary>Per-section figures of one writer run.</summary>
/// <param name="Key">Section key.</param>
/// <param name="Sources">Numbered sources given.</param>
/// <param name="SourcesLeftOut">Lower-ranked sources left out to fit the model's context window.</param>
/// <param name="PromptTokens">Prompt tokens of the first call, counted with the model family's tokenizer
/// (<see cref="FinNews.Core.Models.ModelTokenizer"/>; an estimate for unknown models).</param>
/// <param name="InputTokens">Prompt tokens the endpoint reported for this section.</param>
/// <param name="OutputTokens">Completion tokens the endpoint reported for this section.</param>
/// <param name="Calls">Chat calls for this section (1, or 2 with a repair).</param>
/// <param name="LatencyMs">Wall time of those calls.</param>
/// <param name="ValidatorMs">Time in the validator for this section.</param>
/// <param name="FirstRoundViolations">Bullets that failed validation in the first round.</param>
/// <param name="Repaired">A repair round was made.</param>
/// <param name="Bullets">Bullets kept.</param>
/// <param name="Dropped">Bullets dropped.</param>
/// <param name="FellBack">The extractive writer wrote this section.</param>
/// <param name="CountedPromptTokens">Prompt tokens counted over all calls of this section (first and repair).</param>
public sealed record SectionRun(
    string Key,
    int Sources,
    int SourcesLeftOut,
    int PromptTokens,
    long InputTokens,
    long OutputTokens,
    int Calls,
    long LatencyMs,
    double ValidatorMs,
    int FirstRoundViolations,
    bool Repaired,
    int Bullets,
    int Dropped,
    bool FellBack,
    long CountedPromptTokens = 0);
