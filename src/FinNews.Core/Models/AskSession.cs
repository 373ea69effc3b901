using System.Globalization;
using System.Text;
using FinNews.Core.Briefing;

namespace FinNews.Core.Models;

/// <summary>A source a tool found, before it is numbered.</summary>
/// <param name="Key">Identity for de-duplication: the article id, or <c>market:SYMBOL:FROM:TO</c>.</param>
/// <param name="Text">What the model reads (title and excerpt, or the bars), not yet escaped.</param>
public sealed record ToolSource(string Key, SourceKind Kind, string? ArticleId, string Outlet, string Title, string Url,
    DateTimeOffset PublishedAt, string Text, IReadOnlyList<string> Tickers, MarketMove? Market = null, string? StoryId = null);

/// <summary>What one tool call returns: sources, ranked best first, and a line that says what was looked up.</summary>
public sealed record NewsToolResult(IReadOnlyList<ToolSource> Sources, string Summary);

/// <summary>One tool call of an ask: which tool, with what arguments, and the numbers of the sources it returned.</summary>
/// <param name="Step">Model round trip (1-based) in which the model asked for it.</param>
/// <param name="Note">What the reader should know (nothing found, sources left out for the budget, refused).</param>
public sealed record ToolStep(int Step, string Tool, string Arguments, string Summary, IReadOnlyList<int> Sources, string? Note);

/// <summary>A numbered source of an ask: what the validator checks, what the reader sees.</summary>
public sealed record AskSource(NumberedSource Numbered, BriefingSource Source, string Text, IReadOnlyList<string> Tickers);

/// <summary>The validated text of an answer, as the citation filter leaves it.</summary>
public sealed record CheckedAnswer(IReadOnlyList<AnswerSentence> Sentences, IReadOnlyList<DroppedSentence> Dropped, IReadOnlyList<string> Notes);

/// <summary>
/// The state of one <c>ask</c>, kept in the per-request kernel's <see cref="Microsoft.SemanticKernel.Kernel.Data"/> so
/// that the plugins and the kernel filters of that request share it: the question and point in time, every source a
/// tool returned (numbered once, in order of first return), the tool steps, the bounds, and the validated answer.
/// </summary>
public sealed class AskSession
{
    /// <summary>The <see cref="Microsoft.SemanticKernel.Kernel.Data"/> key.</summary>
    public const string DataKey = "finnews.ask";

    private readonly List<AskSource> _sources = [];
    private readonly Dictionary<string, int> _numbers = new(StringComparer.Ordinal);
    private readonly List<ToolStep> _steps = [];
    private readonly List<string> _notes = [];
    private readonly long _started;
    private int _sourceTokens;

    /// <param name="question">The question as asked.</param>
    /// <param name="asOf">Nothing published or first seen at or after this instant is used (null: now).</param>
    /// <param name="profile">The model profile: bounds and context window.</param>
    /// <param name="tokenizer">Counts the sources against the budget.</param>
    /// <param name="time">Clock for the time bound.</param>
    /// <param name="fixedPromptTokens">Tokens of the system prompt and question.</param>
    public AskSession(string question, DateTimeOffset? asOf, ModelProfile profile, ModelTokenizer tokenizer, TimeProvider time,
        int fixedPromptTokens)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(time);
        Question = question;
        AsOf = asOf;
        Profile = profile;
        Tokenizer = tokenizer;
        Time = time;
        _started = time.GetTimestamp();
        SourceBudget = Math.Min(ContextBudget.ForSources(profile, fixedPromptTokens), profile.AskTokenBudget);
    }

    public string Question { get; }

    public DateTimeOffset? AsOf { get; }

    public ModelProfile Profile { get; }

    public ModelTokenizer Tokenizer { get; }

    public TimeProvider Time { get; }

    /// <summary>Tokens all tool results of this ask may take in the conversation (the per-call context budget).</summary>
    public int SourceBudget { get; }

    /// <summary>Tokens the tool results given so far take.</summary>
    public int SourceTokens => _sourceTokens;

    /// <summary>Every numbered source, in number order.</summary>
    public IReadOnlyList<AskSource> Sources => _sources;

    /// <summary>Every tool call, in order.</summary>
    public IReadOnlyList<ToolStep> Steps => _steps;

    /// <summary>Notes for the reader (bounds reached, tools refused).</summary>
    public IReadOnlyList<string> Notes => _notes;

    /// <summary>Set by the citation filter when the answer function returns.</summary>
    public CheckedAnswer? Checked { get; set; }

    /// <summary>The model's last reply still asked for tools (it was offered none, or a bound stopped the loop).</summary>
    public bool EndedOnToolCall { get; set; }

    /// <summary>Model round trips that asked for tools so far.</summary>
    public int ToolRounds { get; set; }

    /// <summary>Time since the ask started.</summary>
    public TimeSpan Elapsed => Time.GetElapsedTime(_started);

    /// <summary>Adds a note once.</summary>
    public void Note(string note)
    {
        lock (_notes)
        {
            if (!_notes.Contains(note))
            {
                _notes.Add(note);
            }
        }
    }

    /// <summary>The source with this number, or null.</summary>
    public AskSource? Source(int number) => number >= 1 && number <= _sources.Count ? _sources[number - 1] : null;

    /// <summary>The number a key was given, or null.</summary>
    public int? NumberOf(string key) => _numbers.TryGetValue(key, out var n) ? n : null;

    /// <summary>
    /// Numbers a tool's sources (a source seen before keeps its number), fits the new ones into what is left of the
    /// budget (lowest-ranked left out whole, with a note), records the step, and returns the text the model reads:
    /// the summary line and one fenced, entity-escaped block per source.
    /// </summary>
    public string Register(int step, string tool, string arguments, NewsToolResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        lock (_sources)
        {
            var blocks = new List<(ToolSource Source, int? Known, string Block)>();
            foreach (var s in result.Sources)
            {
                var known = NumberOf(s.Key);
                blocks.Add((s, known, Fence(known ?? _sources.Count + 1 + blocks.Count(b => b.Known is null), s)));
            }

            var fresh = blocks.Where(b => b.Known is null).ToList();
            var fit = ContextBudget.Fit(fresh.Select(b => b.Block).ToList(), SourceBudget - _sourceTokens, Tokenizer);
            var kept = new HashSet<string>(fresh.Take(fit.Kept).Select(b => b.Source.Key), StringComparer.Ordinal);
            var text = new StringBuilder(result.Summary).Append('\n');
            var numbers = new List<int>();
            foreach (var (source, known, _) in blocks)
            {
                if (known is { } n)
                {
                    numbers.Add(n);
                    text.Append(CultureInfo.InvariantCulture, $"(already given as source [{n}])\n");
                    continue;
                }

                if (!kept.Contains(source.Key))
                {
                    continue;
                }

                var number = Add(source);
                numbers.Add(number);
                text.Append(Fence(number, source)).Append('\n');
            }

            _sourceTokens += fit.Tokens;
            var note = fit.Note("result(s)");
            if (note is not null)
            {
                text.Append(note).Append('\n');
                Note($"Some tool results were left out to fit the model's context budget ({SourceBudget} tokens for sources).");
            }

            if (result.Sources.Count == 0)
            {
                note = "nothing found";
            }

            _steps.Add(new ToolStep(step, tool, arguments, result.Summary, numbers, note));
            return text.ToString().TrimEnd();
        }
    }

    /// <summary>Records a tool call that returned no sources (refused, failed).</summary>
    public void RecordRefused(int step, string tool, string arguments, string why)
    {
        lock (_sources)
        {
            _steps.Add(new ToolStep(step, tool, arguments, why, [], why));
        }
    }

    private int Add(ToolSource s)
    {
        var number = _sources.Count + 1;
        _numbers[s.Key] = number;
        var numbered = new NumberedSource(number, s.Key, s.Text, s.Tickers, DateOnly.FromDateTime(s.PublishedAt.UtcDateTime), s.Market);
        _sources.Add(new AskSource(numbered, new BriefingSource(number, s.Kind, s.ArticleId, s.Outlet, s.Title, s.Url, s.PublishedAt), s.Text, s.Tickers));
        return number;
    }

    /// <summary>One source as the model reads it: attributes and text entity-escaped, so feed text cannot leave the block.</summary>
    public static string Fence(int number, ToolSource s)
    {
        ArgumentNullException.ThrowIfNull(s);
        var sb = new StringBuilder().Append(CultureInfo.InvariantCulture, $"<source id=\"{number}\"");
        if (s.Kind == SourceKind.MarketData)
        {
            sb.Append(" kind=\"market data\"");
        }
        else
        {
            sb.Append(CultureInfo.InvariantCulture, $" outlet=\"{LlmWriter.Escape(s.Outlet)}\" published=\"{s.PublishedAt.UtcDateTime:yyyy-MM-dd HH:mm} UTC\" article=\"{LlmWriter.Escape(s.ArticleId ?? "")}\"");
            if (s.StoryId is { } story)
            {
                sb.Append(" story=\"").Append(LlmWriter.Escape(story)).Append('"');
            }
        }

        if (s.Tickers.Count > 0)
        {
            sb.Append(" tickers=\"").Append(LlmWriter.Escape(string.Join(",", s.Tickers))).Append('"');
        }

        return sb.Append(">\n").Append(LlmWriter.Escape(s.Text)).Append("\n</source>").ToString();
    }
}
