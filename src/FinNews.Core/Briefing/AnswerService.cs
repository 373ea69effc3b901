using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using System.Threading.Channels;
using FinNews.Core.Feeds;
using FinNews.Core.Market;
using FinNews.Core.Models;
using FinNews.Core.Search;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.SemanticKernel;
using FunctionCallContent = Microsoft.Extensions.AI.FunctionCallContent;
using FunctionResultContent = Microsoft.Extensions.AI.FunctionResultContent;

namespace FinNews.Core.Briefing;

/// <summary>
/// Answers a question from the stored news. With a model, through the briefing profile's Semantic Kernel: the model
/// plans its own retrieval with the <see cref="NewsPlugin"/> tools (automatic function calling, bounded in steps, time
/// and tokens), every tool result becomes a numbered source, and the answer passes the <see cref="CitationFilter"/>
/// (a kernel filter) before anyone sees it. Without a model, or when it fails: one hybrid search and the lead
/// sentences of the relevant hits. Either way, when no source covers the question (<see cref="Relevance"/>), the
/// answer is "The stored news does not say." with what was searched.
/// </summary>
/// <remarks>
/// Point in time: with <c>asOf</c>, only articles published before it and first seen by this service before it are
/// used, by the tools and by the extractive search alike, and only market bars of days before it.
/// </remarks>
public sealed partial class AnswerService
{
    /// <summary>What the answer says when the stored news does not answer the question.</summary>
    public const string NoAnswer = "The stored news does not say.";

    private const int ExtractiveCount = 3;

    private readonly NewsPlugin _news;
    private readonly KernelPlugin _plugin;
    private readonly IArticleStore _store;
    private readonly Kernel? _kernel;
    private readonly ModelProfile? _profile;
    private readonly Relevance _relevance;
    private readonly TimeProvider _time;
    private readonly ILogger<AnswerService> _logger;

    /// <param name="index">The search index (hybrid retrieval).</param>
    /// <param name="store">The article store: full text, outlet, first-seen time, stories, market bars.</param>
    /// <param name="kernel">The briefing profile's kernel (with the citation filter); null for extractive answers.</param>
    /// <param name="profile">The briefing profile: bounds of an ask; null for extractive answers.</param>
    /// <param name="relevance">Decides whether a source covers the question.</param>
    /// <param name="time">Clock for latency and the time bound.</param>
    /// <param name="logger">Logs fallbacks.</param>
    public AnswerService(ISearchIndex index, IArticleStore store, IMarketStore market, Kernel? kernel, ModelProfile? profile, Relevance relevance,
        TimeProvider time, ILogger<AnswerService> logger)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(relevance);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        _news = new NewsPlugin(index, store, market);
        _plugin = KernelPluginFactory.CreateFromObject(_news, NewsPlugin.PluginName);
        _store = store;
        _kernel = profile is null ? null : kernel;
        _profile = kernel is null ? null : profile;
        _relevance = relevance;
        _time = time;
        _logger = logger;
    }

    /// <summary>Most search results the extractive answer considers.</summary>
    public int SourceLimit { get; init; } = 8;

    /// <summary>True when a model writes the answers.</summary>
    public bool UsesModel => _kernel is not null;

    /// <summary>The constant system prompt (Prompts/answer.txt).</summary>
    public static string SystemPrompt => PromptLibrary.AnswerSystem;

    /// <summary>Answers a question from articles known before <paramref name="asOf"/> (null: now).</summary>
    public async Task<Answer> AskAsync(string question, DateTimeOffset? asOf, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(question);
        if (_kernel is null || _profile is null)
        {
            return await ExtractiveAsync(question, asOf, [], cancellationToken);
        }

        var run = Start(question, asOf);
        using var scope = TokenLedger.Begin(run.Ledger);
        using var timeout = new CancellationTokenSource(_profile.AskTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        var started = _time.GetTimestamp();
        try
        {
            var result = await run.Kernel.InvokeAsync(PromptLibrary.Ask, run.Arguments, linked.Token);
            run.LatencyMs = (long)_time.GetElapsedTime(started).TotalMilliseconds;
            run.ModelId = _profile.Model;
            run.StillCallingTools = run.Session.EndedOnToolCall;
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            run.LatencyMs = (long)_time.GetElapsedTime(started).TotalMilliseconds;
            return await FallbackAsync(run, ex, cancellationToken);
        }

        return Finish(run);
    }

    /// <summary>
    /// Answers a question as a stream: <c>tool</c> events as the model's tool calls complete, <c>delta</c> events with
    /// the model's text as it arrives (or the extractive sentences), then one <c>done</c> event with the validated
    /// <see cref="Answer"/>, whose text is authoritative (sentences failing citation checks are removed after streaming).
    /// </summary>
    public async IAsyncEnumerable<AnswerEvent> AskStreamingAsync(string question, DateTimeOffset? asOf,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(question);
        if (_kernel is null || _profile is null)
        {
            var extractive = await ExtractiveAsync(question, asOf, [], cancellationToken);
            foreach (var step in extractive.Tools ?? [])
            {
                yield return AnswerEvent.ForTool(step);
            }

            foreach (var delta in Deltas(extractive))
            {
                yield return AnswerEvent.ForDelta(delta);
            }

            yield return AnswerEvent.ForDone(extractive);
            yield break;
        }

        var run = Start(question, asOf);
        using var timeout = new CancellationTokenSource(_profile.AskTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        var started = _time.GetTimestamp();
        Exception? error = null;
        var streamed = 0;
        var reported = 0;
        var lastWasToolCall = false;
        // The kernel's stream is drained by a task that starts inside the token ledger's scope: an async iterator does
        // not keep an async-local value across its yields, a task keeps the one it started with.
        var channel = Channel.CreateUnbounded<ChatResponseUpdate>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        Task pump;
        using (TokenLedger.Begin(run.Ledger))
        {
            pump = Task.Run(async () =>
            {
                try
                {
                    await foreach (var u in run.Kernel.InvokeStreamingAsync<ChatResponseUpdate>(PromptLibrary.Ask, run.Arguments, linked.Token))
                    {
                        await channel.Writer.WriteAsync(u, linked.Token);
                    }

                    channel.Writer.Complete();
                }
                catch (Exception ex)
                {
                    channel.Writer.Complete(ex);
                }
            }, CancellationToken.None);
        }

        await using (var updates = channel.Reader.ReadAllAsync(linked.Token).GetAsyncEnumerator(linked.Token))
        {
            while (true)
            {
                ChatResponseUpdate update;
                try
                {
                    if (!await updates.MoveNextAsync())
                    {
                        break;
                    }

                    update = updates.Current;
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
                {
                    error = ex is ChannelClosedException { InnerException: { } inner } ? inner : ex;
                    break;
                }

                run.ModelId ??= update.ModelId;
                while (reported < run.Session.Steps.Count)
                {
                    yield return AnswerEvent.ForTool(run.Session.Steps[reported++]);
                }

                if (update.Contents.Any(c => c is FunctionCallContent))
                {
                    lastWasToolCall = true;
                }
                else if (update.Contents.Any(c => c is FunctionResultContent))
                {
                    lastWasToolCall = false;
                }

                var delta = update.Text;
                if (!string.IsNullOrEmpty(delta))
                {
                    lastWasToolCall = false;
                    streamed += delta.Length;
                    yield return AnswerEvent.ForDelta(delta);
                }
            }
        }

        await pump;
        while (reported < run.Session.Steps.Count)
        {
            yield return AnswerEvent.ForTool(run.Session.Steps[reported++]);
        }

        run.LatencyMs = (long)_time.GetElapsedTime(started).TotalMilliseconds;
        run.StillCallingTools = lastWasToolCall;
        var answer = error is null ? Finish(run) : await FallbackAsync(run, error, cancellationToken);
        if (streamed == 0 || error is not null)
        {
            foreach (var delta in Deltas(answer))
            {
                yield return AnswerEvent.ForDelta(delta);
            }
        }

        yield return AnswerEvent.ForDone(answer);
    }

    /// <summary>
    /// Reads a prose reply as sentences with their <c>[n]</c> citations: citation markers close the sentence they follow
    /// (<c>Shares rose 7% [2].</c> or <c>Shares rose 7%. [2]</c>); a sentence with no marker has no citation.
    /// List markers and line breaks are ignored.
    /// </summary>
    public static IReadOnlyList<ProposedBullet> ParseSentences(string reply)
    {
        ArgumentNullException.ThrowIfNull(reply);
        var text = Whitespace().Replace(string.Join(' ', reply.Replace("\r", "", StringComparison.Ordinal).Split('\n')
            .Select(l => ListMarker().Replace(l.Trim(), ""))), " ").Trim();
        var sentences = new List<ProposedBullet>();
        var position = 0;
        foreach (Match run in CitationRun().Matches(text))
        {
            var numbers = Numbers().Matches(run.Groups["cites"].Value)
                .Select(m => int.Parse(m.Value, CultureInfo.InvariantCulture)).Distinct().ToList();
            var pieces = SplitSentences(text[position..run.Index]);
            position = run.Index + run.Length;
            if (pieces.Count == 0)
            {
                // "... [1]. [3]": the stray marker belongs to the sentence before it.
                if (sentences.Count > 0)
                {
                    var last = sentences[^1];
                    sentences[^1] = last with { Citations = last.Citations.Concat(numbers).Distinct().ToList() };
                }

                continue;
            }

            foreach (var piece in pieces.Take(pieces.Count - 1))
            {
                sentences.Add(new ProposedBullet(null, piece, [], []));
            }

            var body = pieces[^1];
            var punctuation = run.Groups["p"].Value;
            if (punctuation.Length > 0 && !EndsSentence(body))
            {
                body += punctuation;
            }

            sentences.Add(new ProposedBullet(null, body, numbers, []));
        }

        sentences.AddRange(SplitSentences(text[position..]).Select(p => new ProposedBullet(null, p, [], [])));
        return sentences;
    }

    /// <summary>A sentence with its citation markers before the closing punctuation: <c>Shares rose 7% [2].</c></summary>
    public static string Render(AnswerSentence sentence)
    {
        ArgumentNullException.ThrowIfNull(sentence);
        var cites = string.Concat(sentence.Citations.Select(n => string.Create(CultureInfo.InvariantCulture, $"[{n}]")));
        if (cites.Length == 0)
        {
            return sentence.Text;
        }

        var text = sentence.Text.TrimEnd();
        return EndsSentence(text) ? $"{text[..^1]} {cites}{text[^1]}" : $"{text} {cites}";
    }

    // A per-request kernel: the profile's kernel (its filters included) with the tools and this ask's session.
    private AskRun Start(string question, DateTimeOffset? asOf)
    {
        var kernel = _kernel!.Clone();
        kernel.Plugins.Add(_plugin);
        var scope = asOf is { } at
            ? $"Answer as of {at.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC: the tools return only news known before then."
            : $"Now is {_time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC.";
        var tokenizer = kernel.Services.GetService(typeof(ModelTokenizer)) as ModelTokenizer ?? ModelTokenizer.For(_profile!.Model);
        var fixedTokens = tokenizer.CountChat([("system", SystemPrompt), ("user", PromptLibrary.Text("ask") + question + scope)]);
        var session = new AskSession(question, asOf, _profile!, tokenizer, _time, fixedTokens);
        kernel.Data[AskSession.DataKey] = session;
        var settings = new PromptExecutionSettings
        {
            FunctionChoiceBehavior = FunctionChoiceBehavior.Auto(options: new FunctionChoiceBehaviorOptions { AllowParallelCalls = true }),
            ExtensionData = new Dictionary<string, object>(StringComparer.Ordinal),
        };
        if (_profile!.Temperature is { } temperature)
        {
            settings.ExtensionData["temperature"] = temperature;
        }

        if (_profile.MaxOutputTokens is { } max)
        {
            settings.ExtensionData["max_tokens"] = max;
        }

        return new AskRun(kernel, session, new TokenLedger(), new AskPromptArguments(question.Trim(), scope).ToKernelArguments(settings));
    }

    private Answer Finish(AskRun run)
    {
        var session = run.Session;
        var notes = new List<string>(session.Notes);
        if (run.StillCallingTools)
        {
            notes.Add(string.Create(CultureInfo.InvariantCulture,
                $"The model was still asking for tools after {_profile!.MaxToolSteps} steps; the tool loop was stopped there."));
        }

        var checkedAnswer = session.Checked ?? new CheckedAnswer([], [], []);
        notes.AddRange(checkedAnswer.Notes);
        foreach (var d in checkedAnswer.Dropped)
        {
            _logger.LogInformation("Dropped an answer sentence: {Reasons}", string.Join("; ", d.Reasons));
        }

        if (checkedAnswer.Sentences.Count == 0)
        {
            // No usable model answer: the relevant sources its tools found, extractively, or an abstention.
            var relevant = Relevant(session.Question, session.Sources.Select(s => (s.Source, s.Text, s.Tickers)).ToList());
            if (relevant.Count > 0 && (run.StillCallingTools || checkedAnswer.Dropped.Count > 0 || session.Notes.Count > 0))
            {
                notes.Add("The model gave no usable answer; the answer is the lead sentences of the relevant sources its tools found.");
                var sentences = Leads(relevant);
                return Build(run, sentences, session.Sources.Select(s => s.Source).ToList(), "llm+extractive", notes, checkedAnswer.Dropped);
            }

            notes.Add(Searched(session.Steps, session.Question));
            return Build(run, [], [], "llm", notes, checkedAnswer.Dropped);
        }

        return Build(run, checkedAnswer.Sentences, session.Sources.Select(s => s.Source).ToList(), "llm", notes, checkedAnswer.Dropped);
    }

    private Answer Build(AskRun run, IReadOnlyList<AnswerSentence> sentences, IReadOnlyList<BriefingSource> sources, string writer,
        List<string> notes, IReadOnlyList<DroppedSentence> dropped)
    {
        var cited = sentences.SelectMany(s => s.Citations).ToHashSet();
        return new Answer(run.Session.Question, run.Session.AsOf, Join(sentences), sentences,
            sources.Where(s => cited.Contains(s.Number)).ToList(), writer, run.ModelId ?? _profile!.Model, notes, dropped,
            run.Ledger.InputTokens, run.Ledger.OutputTokens, run.LatencyMs, run.Session.Steps,
            run.Ledger.CountedPromptTokens.Sum(), run.Ledger.Encoding ?? run.Session.Tokenizer.Encoding, run.Ledger.CountedPromptTokens.Count);
    }

    private async Task<Answer> FallbackAsync(AskRun run, Exception ex, CancellationToken cancellationToken)
    {
        _logger.LogWarning(ex, "Model profile {Profile} failed to answer; falling back to the extractive answer", _profile!.Name);
        var note = $"The language model ({_profile.Name}: {_profile.Model}) failed ({LlmWriter.Describe(ex)}); the answer is extractive.";
        var extractive = await ExtractiveAsync(run.Session.Question, run.Session.AsOf, [note, .. run.Session.Notes], cancellationToken);
        return extractive with
        {
            InputTokens = run.Ledger.InputTokens,
            OutputTokens = run.Ledger.OutputTokens,
            LatencyMs = run.LatencyMs,
            Tools = [.. run.Session.Steps, .. extractive.Tools ?? []],
            PromptTokens = run.Ledger.CountedPromptTokens.Sum(),
            TokenCount = run.Ledger.Encoding ?? run.Session.Tokenizer.Encoding,
            ModelCalls = run.Ledger.CountedPromptTokens.Count,
        };
    }

    // One hybrid search for the question; the lead sentences of the relevant hits, each citing its article.
    private async Task<Answer> ExtractiveAsync(string question, DateTimeOffset? asOf, List<string> notes, CancellationToken cancellationToken)
    {
        var result = await _news.SearchAtAsync(asOf, question, limit: SourceLimit, cancellationToken: cancellationToken);
        var relevant = Relevant(question, result.Sources.Select((s, i) => (ToSource(i + 1, s), s.Text, s.Tickers)).ToList());
        var top = relevant.Take(ExtractiveCount).Select((r, i) => (Source: r.Source with { Number = i + 1 }, r.Text, r.Tickers)).ToList();
        var step = new ToolStep(1, $"{NewsPlugin.PluginName}_search", $"query=\"{question}\"", result.Summary, top.Select(t => t.Source.Number).ToList(),
            result.Sources.Count == 0 ? "nothing found" : top.Count == 0 ? "no result covers the question" : null);
        if (top.Count == 0)
        {
            notes.Add(result.Sources.Count == 0 && asOf is { } at
                ? $"No stored article known before {at.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC matches the question."
                : Searched([step], question));
        }

        var sentences = Leads(top);
        return new Answer(question, asOf, Join(sentences), sentences, top.Select(t => t.Source).ToList(), "extractive", null,
            notes, [], 0, 0, 0, [step]);
    }

    private List<(BriefingSource Source, string Text, IReadOnlyList<string> Tickers)> Relevant(string question,
        IReadOnlyList<(BriefingSource Source, string Text, IReadOnlyList<string> Tickers)> candidates)
    {
        var terms = _relevance.Terms(question);
        return candidates.Where(c => c.Source.Kind == SourceKind.MarketData
                ? terms.Tickers.Count > 0 && terms.Tickers.Any(t => c.Tickers.Contains(t, StringComparer.Ordinal))
                : Relevance.IsRelevant(terms, $"{c.Source.Title}\n{c.Text}", c.Tickers.ToList()))
            .ToList();
    }

    private List<AnswerSentence> Leads(IEnumerable<(BriefingSource Source, string Text, IReadOnlyList<string> Tickers)> sources)
    {
        var sentences = new List<AnswerSentence>();
        foreach (var (source, text, _) in sources)
        {
            if (sentences.Count >= ExtractiveCount)
            {
                break;
            }

            if (source.ArticleId is null || _store.GetArticle(source.ArticleId) is not { } a)
            {
                // Market data: its first line says what it is.
                sentences.Add(new AnswerSentence(text.Split('\n', 2)[0].TrimEnd(':') + ".", [source.Number]));
                continue;
            }

            var lead = ExtractiveWriter.LeadSentence(a.Summary);
            if (lead.Length < 40 && ExtractiveWriter.LeadSentence(a.Body) is { Length: >= 40 } fromBody)
            {
                lead = fromBody;
            }

            sentences.Add(new AnswerSentence(lead.Length == 0 ? a.Title : lead, [source.Number]));
        }

        return sentences;
    }

    private static BriefingSource ToSource(int number, ToolSource s) =>
        new(number, s.Kind, s.ArticleId, s.Outlet, s.Title, s.Url, s.PublishedAt, s.Sample);

    // The note of an abstention: what was searched, so the reader can judge the "does not say".
    private string Searched(IReadOnlyList<ToolStep> steps, string question)
    {
        var terms = _relevance.Terms(question);
        var looked = steps.Count == 0 ? "no tool was called" : string.Join("; ", steps.Select(s => s.Summary));
        var words = terms.Terms.Count == 0 ? "" : $" (terms: {string.Join(", ", terms.Words ?? terms.Terms)}{(terms.Tickers.Count > 0 ? $"; tickers: {string.Join(", ", terms.Tickers)}" : "")})";
        return $"No stored source covers the question{words}. Searched: {looked}.";
    }

    /// <summary>The sentences joined with their citations, or <see cref="NoAnswer"/> when there are none.</summary>
    public static string Join(IReadOnlyList<AnswerSentence> sentences)
    {
        ArgumentNullException.ThrowIfNull(sentences);
        return sentences.Count == 0 ? NoAnswer : string.Join(" ", sentences.Select(Render));
    }

    /// <summary>The model's prescribed non-answer is an answer, not a claim to check; it is left out here.</summary>
    public static List<ProposedBullet> Substantive(IReadOnlyList<ProposedBullet> sentences)
    {
        ArgumentNullException.ThrowIfNull(sentences);
        return sentences.Where(s => !(s.Citations.Count == 0 && IsNoAnswer(s.Text))).ToList();
    }

    private static bool IsNoAnswer(string text) =>
        text.Trim().Equals(NoAnswer, StringComparison.OrdinalIgnoreCase) || text.Trim().Equals("The sources do not say.", StringComparison.OrdinalIgnoreCase);

    private static IEnumerable<string> Deltas(Answer answer) =>
        answer.Sentences.Count == 0 ? [answer.Text] : answer.Sentences.Select((s, i) => (i == 0 ? "" : " ") + Render(s));

    private static List<string> SplitSentences(string text) =>
        SentenceBreak().Split(text).Select(p => p.Trim()).Where(p => p.Any(char.IsLetterOrDigit)).ToList();

    private static bool EndsSentence(string text) => text.Length > 0 && text[^1] is '.' or '!' or '?';

    // One or more [n] / [n, m] markers, then optional closing punctuation.
    [GeneratedRegex(@"(?<cites>(?:\s*\[\s*\d+(?:\s*,\s*\d+)*\s*\])+)(?<p>[.!?]?)")]
    private static partial Regex CitationRun();

    [GeneratedRegex(@"\d+")]
    private static partial Regex Numbers();

    [GeneratedRegex(@"(?<=(?<!\b(?:Inc|Corp|Co|Ltd|Mr|Ms|Mrs|Dr|St|No|vs|U\.S|Jr|Sr|Plc))[.!?])\s+(?=[""“‘'A-Z(])")]
    private static partial Regex SentenceBreak();

    [GeneratedRegex(@"^(?:[-*•]|\d+[.)])\s+")]
    private static partial Regex ListMarker();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();

    private sealed class AskRun(Kernel kernel, AskSession session, TokenLedger ledger, KernelArguments arguments)
    {
        public Kernel Kernel { get; } = kernel;
        public AskSession Session { get; } = session;
        public TokenLedger Ledger { get; } = ledger;
        public KernelArguments Arguments { get; } = arguments;
        public long LatencyMs { get; set; }
        public string? ModelId { get; set; }
        public bool StillCallingTools { get; set; }
    }
}
