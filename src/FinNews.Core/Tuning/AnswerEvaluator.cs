using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using FinNews.Core.Briefing;
using FinNews.Core.Feeds;
using FinNews.Core.Market;
using FinNews.Core.Models;
using FinNews.Core.Search;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.SemanticKernel;

namespace FinNews.Core.Tuning;

/// <summary>The ways a question is answered in an evaluation.</summary>
public static class EvalModes
{
    /// <summary>The model alone: no sources, no tools (what the weights know).</summary>
    public const string ClosedBook = "closed-book";

    /// <summary>One hybrid search for the question; the relevant hits are the model's numbered sources.</summary>
    public const string Retrieval = "retrieval";

    /// <summary>The product's <c>ask</c>: the model plans its own searches with tools, and the citation filter checks it.</summary>
    public const string Tools = "tools";
}

/// <summary>A model under evaluation: a label for the table (base, tuned) and its profile.</summary>
public sealed record EvalModel(string Label, ModelProfile Profile);

/// <summary>One question answered by one configuration, with what was measured.</summary>
public sealed record EvalOutcome(
    string Configuration,
    string QuestionId,
    bool Answerable,
    bool AfterCutoff,
    string Answer,
    string RawReply,
    bool Abstained,
    int FactsExpected,
    int FactsFound,
    int CitationPairs,
    int SupportedPairs,
    int Sentences,
    int SentencesSupported,
    int FiguresWritten,
    int FiguresWrittenSupported,
    int FiguresShown,
    int FiguresShownSupported,
    int SentencesDropped,
    IReadOnlyList<string> StyleProblems,
    long LatencyMs,
    long PromptTokens,
    long CompletionTokens,
    decimal? Cost,
    int GoldSources,
    int GoldSourcesCited,
    string? Error,
    JudgeOutcome? Judge = null);

/// <summary>
/// Runs a question set over configurations {extractive, each model} x {closed-book, retrieval, tools} and measures,
/// per answer: facts stated (domain accuracy; freshness on questions after the model's training cutoff), abstention on
/// questions the news cannot answer, citation precision and recall by the <see cref="CitationValidator"/> (does each
/// cited source hold the sentence's figures and tickers), numeric faithfulness as the model wrote it and as a reader
/// sees it after the validator, the answer house style, latency, tokens and cost.
/// </summary>
/// <remarks>
/// Closed-book and retrieval calls go through each profile's Semantic Kernel chat client (retries, token counting);
/// the tools mode is the product's <see cref="AnswerService"/> on that kernel. The model's raw replies are recorded
/// beneath the token counter, so style and "as written" figures are measured on what the model wrote, before any
/// check. Model output is untrusted: it is parsed, checked and counted, never executed or rendered as markup.
/// </remarks>
public sealed partial class AnswerEvaluator
{
    private const int RetrievalLimit = 6;
    private readonly ISearchIndex _index;
    private readonly IArticleStore _articles;
    private readonly IMarketStore _market;
    private readonly CitationValidator _validator;
    private readonly Relevance _relevance;
    private readonly TimeProvider _time;
    private readonly ILoggerFactory _loggerFactory;
    private readonly NewsPlugin _news;

    // The (sentence, cited source, validator passed) pairs of the answer last measured, for the judge.
    private List<(string Sentence, string Source, bool ValidatorPassed)> _lastPairs = [];

    public AnswerEvaluator(ISearchIndex index, IArticleStore articles, IMarketStore market, CitationValidator validator, Relevance relevance,
        TimeProvider time, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(articles);
        ArgumentNullException.ThrowIfNull(market);
        _index = index;
        _articles = articles;
        _market = market;
        _validator = validator;
        _relevance = relevance;
        _time = time;
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _news = new NewsPlugin(index, articles, market);
    }

    /// <summary>Answers every question in every configuration; <paramref name="progress"/> hears one line per configuration.</summary>
    /// <remarks>With a <paramref name="judge"/>, every (sentence, cited source) pair of every answer is also graded by it.</remarks>
    public async Task<AnswerEvalReport> RunAsync(IReadOnlyList<EvalQuestion> questions, IReadOnlyList<EvalModel> models, IReadOnlyList<string> modes,
        IProgress<string>? progress, CancellationToken cancellationToken, CitationJudge? judge = null)
    {
        ArgumentNullException.ThrowIfNull(questions);
        ArgumentNullException.ThrowIfNull(models);
        ArgumentNullException.ThrowIfNull(modes);
        var outcomes = new List<EvalOutcome>();
        var configurations = new List<EvalConfiguration>();
        if (modes.Contains(EvalModes.Retrieval) || modes.Contains(EvalModes.Tools))
        {
            var extractive = new AnswerService(_index, _articles, _market, null, null, _relevance, _time, _loggerFactory.CreateLogger<AnswerService>());
            var config = new EvalConfiguration("extractive · retrieval", "extractive", "(no model)", EvalModes.Retrieval, null);
            configurations.Add(config);
            foreach (var q in questions)
            {
                outcomes.Add(await JudgedAsync(await ExtractiveAsync(config, extractive, q, cancellationToken), judge, cancellationToken));
            }

            progress?.Report($"{config.Name}: {questions.Count} questions");
        }

        foreach (var model in models)
        {
            var recorder = new RecordingChatClientFactory();
            var kernel = ModelKernels.Build(model.Profile, _time, _validator, _relevance, _loggerFactory, decorate: recorder.Wrap);
            foreach (var mode in modes)
            {
                var config = new EvalConfiguration($"{model.Label} · {mode}", model.Label, model.Profile.Model, mode, model.Profile);
                configurations.Add(config);
                var answerer = mode == EvalModes.Tools
                    ? new AnswerService(_index, _articles, _market, kernel, model.Profile, _relevance, _time, _loggerFactory.CreateLogger<AnswerService>())
                    : null;
                foreach (var q in questions)
                {
                    recorder.Clear();
                    outcomes.Add(await JudgedAsync(mode switch
                    {
                        EvalModes.ClosedBook => await ClosedBookAsync(config, kernel, recorder, q, cancellationToken),
                        EvalModes.Retrieval => await RetrievalAsync(config, kernel, recorder, q, cancellationToken),
                        _ => await ToolsAsync(config, answerer!, recorder, q, cancellationToken),
                    }, judge, cancellationToken));
                }

                progress?.Report($"{config.Name}: {questions.Count} questions");
            }
        }

        return new AnswerEvalReport(_time.GetUtcNow(), questions.Count, questions.Count(q => !q.Answerable), configurations, outcomes, judge?.Describe);
    }

    // The judge grades the pairs the answer just measured (closed-book answers cite nothing, so it has nothing to grade).
    private async Task<EvalOutcome> JudgedAsync(EvalOutcome outcome, CitationJudge? judge, CancellationToken cancellationToken) =>
        judge is null ? outcome : outcome with { Judge = await judge.JudgeAsync(_lastPairs, cancellationToken) };

    private async Task<EvalOutcome> ExtractiveAsync(EvalConfiguration config, AnswerService answerer, EvalQuestion q, CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        var answer = await answerer.AskAsync(q.Question, q.AsOf, cancellationToken);
        var latency = (long)_time.GetElapsedTime(started).TotalMilliseconds;
        var sources = await NumberedAsync(answer.Sources);
        var sentences = answer.Sentences.Select(s => new ProposedBullet(null, s.Text, s.Citations, [])).ToList();
        return Measure(config, q, answer.Text, answer.Text, sentences, sentences, sources, answer.Sources, latency, 0, 0, expectCitations: true, null);
    }

    private async Task<EvalOutcome> ClosedBookAsync(EvalConfiguration config, Kernel kernel, RecordingChatClientFactory recorder, EvalQuestion q,
        CancellationToken cancellationToken)
    {
        var ledger = new TokenLedger();
        var started = _time.GetTimestamp();
        string? error = null;
        using (TokenLedger.Begin(ledger))
        {
            try
            {
                await Chat(kernel).GetResponseAsync(
                    [new ChatMessage(ChatRole.System, PromptLibrary.Text("closed-book")), new ChatMessage(ChatRole.User, q.Question)],
                    Options(config.Profile!), cancellationToken);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                error = LlmWriter.Describe(ex);
            }
        }

        var latency = (long)_time.GetElapsedTime(started).TotalMilliseconds;
        var raw = recorder.LastReply;
        var sentences = AnswerService.Substantive(AnswerService.ParseSentences(raw));
        // With no sources nothing can be cited: the answer is shown as written (the product would drop every sentence).
        return Measure(config, q, raw, raw, sentences, sentences, new Dictionary<int, NumberedSource>(), [], latency, ledger.CountedPromptTokens.Sum(),
            ledger.OutputTokens, expectCitations: false, error);
    }

    private async Task<EvalOutcome> RetrievalAsync(EvalConfiguration config, Kernel kernel, RecordingChatClientFactory recorder, EvalQuestion q,
        CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        var result = await _news.SearchAtAsync(q.AsOf, q.Question, limit: RetrievalLimit, cancellationToken: cancellationToken);
        var terms = _relevance.Terms(q.Question);
        var relevant = result.Sources.Where(s => Relevance.IsRelevant(terms, $"{s.Title}\n{s.Text}", s.Tickers.ToList())).ToList();
        if (relevant.Count == 0)
        {
            // The relevance floor: no model call, the answer says the news does not say (as the product's answers do).
            return Measure(config, q, AnswerService.NoAnswer, "", [], [], new Dictionary<int, NumberedSource>(), [],
                (long)_time.GetElapsedTime(started).TotalMilliseconds, 0, 0, expectCitations: true, null);
        }

        var numbered = relevant.Select((s, i) => new NumberedSource(i + 1, s.Key, s.Text, s.Tickers, DateOnly.FromDateTime(s.PublishedAt.UtcDateTime), s.Market))
            .ToDictionary(s => s.Number);
        var briefingSources = relevant.Select((s, i) => new BriefingSource(i + 1, s.Kind, s.ArticleId, s.Outlet, s.Title, s.Url, s.PublishedAt, s.Sample)).ToList();
        var fenced = new StringBuilder();
        foreach (var (s, i) in relevant.Select((s, i) => (s, i + 1)))
        {
            fenced.Append(CultureInfo.InvariantCulture,
                $"<source id=\"{i}\" outlet=\"{LlmWriter.Escape(s.Outlet)}\" published=\"{s.PublishedAt.UtcDateTime:yyyy-MM-dd HH:mm} UTC\">\n{LlmWriter.Escape(s.Text)}\n</source>\n");
        }

        var scope = $"Answer as of {(q.AsOf ?? _time.GetUtcNow()).UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC.";
        var user = PromptLibrary.Text("retrieval")
            .Replace("{{$question}}", LlmWriter.Escape(q.Question), StringComparison.Ordinal)
            .Replace("{{$scope}}", scope, StringComparison.Ordinal)
            .Replace("{{$sources}}", fenced.ToString().TrimEnd(), StringComparison.Ordinal);
        var ledger = new TokenLedger();
        string? error = null;
        using (TokenLedger.Begin(ledger))
        {
            try
            {
                await Chat(kernel).GetResponseAsync(
                    [new ChatMessage(ChatRole.System, PromptLibrary.AnswerSystem), new ChatMessage(ChatRole.User, user)], Options(config.Profile!), cancellationToken);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                error = LlmWriter.Describe(ex);
            }
        }

        var latency = (long)_time.GetElapsedTime(started).TotalMilliseconds;
        var raw = recorder.LastReply;
        var written = AnswerService.Substantive(AnswerService.ParseSentences(raw));
        var kept = _validator.Validate(written, numbered).Checks.Where(c => c.Passed).Select(c => c.Bullet).ToList();
        var shown = AnswerService.Join(kept.Select(k => new AnswerSentence(k.Text, k.Citations)).ToList());
        return Measure(config, q, shown, raw, written, kept, numbered, briefingSources, latency, ledger.CountedPromptTokens.Sum(), ledger.OutputTokens,
            expectCitations: true, error);
    }

    private async Task<EvalOutcome> ToolsAsync(EvalConfiguration config, AnswerService answerer, RecordingChatClientFactory recorder, EvalQuestion q,
        CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        var answer = await answerer.AskAsync(q.Question, q.AsOf, cancellationToken);
        var latency = (long)_time.GetElapsedTime(started).TotalMilliseconds;
        var raw = recorder.LastReply;
        var sources = await NumberedAsync(answer.Sources);
        var kept = answer.Sentences.Select(s => new ProposedBullet(null, s.Text, s.Citations, [])).ToList();
        // As written: the final reply's sentences, checked against the sources the answer kept (dropped sentences
        // count as unsupported: the citation filter removed them).
        var written = AnswerService.Substantive(AnswerService.ParseSentences(raw));
        var error = answer.Writer == "extractive" && answer.Notes.Count > 0 ? answer.Notes[0] : null;
        return Measure(config, q, answer.Text, raw, written, kept, sources, answer.Sources, latency, answer.PromptTokens, answer.OutputTokens,
            expectCitations: true, error, answer.Dropped.Count);
    }

    // The sources of an answer as the validator sees them, rebuilt from the store (article text, or the market row).
    private Task<Dictionary<int, NumberedSource>> NumberedAsync(IReadOnlyList<BriefingSource> sources)
    {
        var articles = _articles.GetArticles(sources.Where(s => s.ArticleId is not null).Select(s => s.ArticleId!)).ToDictionary(a => a.Id, StringComparer.Ordinal);
        var numbered = new Dictionary<int, NumberedSource>();
        foreach (var s in sources)
        {
            if (s.ArticleId is { } id && articles.TryGetValue(id, out var a))
            {
                numbered[s.Number] = new NumberedSource(s.Number, a.Id, $"{a.Title}\n{a.Summary}\n{a.Body}", a.Tickers, DateOnly.FromDateTime(a.PublishedAt.UtcDateTime));
            }
            else if (BriefingEditChecker.MarketMoveFor(_market, s) is { } move)
            {
                numbered[s.Number] = LlmWriter.NumberSources(new SectionMaterial("eval", "eval", [], [move]))[0] with { Number = s.Number };
            }
        }

        return Task.FromResult(numbered);
    }

    private EvalOutcome Measure(EvalConfiguration config, EvalQuestion q, string shownText, string raw, List<ProposedBullet> written,
        List<ProposedBullet> shown, IReadOnlyDictionary<int, NumberedSource> sources, IReadOnlyList<BriefingSource> cited,
        long latency, long promptTokens, long completionTokens, bool expectCitations, string? error, int? dropped = null)
    {
        var abstained = shown.Count == 0;
        var shownFigures = shown.SelectMany(s => Figures.Extract(s.Text)).ToList();
        var factsFound = q.Expected.Count(f => States(shownText, shownFigures, f));
        int pairs = 0, supportedPairs = 0, sentencesSupported = 0;
        _lastPairs = [];
        foreach (var s in shown)
        {
            var any = false;
            foreach (var n in s.Citations.Distinct())
            {
                pairs++;
                var passed = _validator.Check(new ProposedBullet(null, s.Text, [n], []), sources).Count == 0;
                _lastPairs.Add((s.Text, sources.GetValueOrDefault(n)?.Text ?? "(the cited source does not exist)", passed));
                if (passed)
                {
                    supportedPairs++;
                    any = true;
                }
            }

            sentencesSupported += any ? 1 : 0;
        }

        var (writtenFigures, writtenSupported) = FigureSupport(written, sources);
        var (shownCount, shownSupported) = FigureSupport(shown, sources);
        var goldCited = q.Sources.Count(url => cited.Any(c => string.Equals(c.Url, url, StringComparison.OrdinalIgnoreCase)));
        var style = raw.Length == 0 && abstained ? [] : HouseStyle.Problems(raw.Length == 0 ? shownText : raw, expectCitations);
        decimal? cost = config.Profile is { InputPricePerMillionTokens: { } pin, OutputPricePerMillionTokens: { } pout }
            ? (promptTokens * pin + completionTokens * pout) / 1_000_000m
            : config.Profile is null ? 0m : null;
        var afterCutoff = config.Profile?.TrainingCutoff is not { } cutoff || DateOnly.FromDateTime((q.AsOf ?? _time.GetUtcNow()).UtcDateTime) > cutoff;
        return new EvalOutcome(config.Name, q.Id, q.Answerable, afterCutoff, shownText, raw, abstained, q.Expected.Count, factsFound, pairs, supportedPairs,
            shown.Count, sentencesSupported, writtenFigures, writtenSupported, shownCount, shownSupported,
            dropped ?? Math.Max(0, written.Count - shown.Count), style, latency, promptTokens, completionTokens, cost, q.Sources.Count, goldCited, error);
    }

    // Figures in the sentences, and how many rest on a source the sentence cites.
    private static (int Figures, int Supported) FigureSupport(List<ProposedBullet> sentences, IReadOnlyDictionary<int, NumberedSource> sources)
    {
        int figures = 0, supported = 0;
        foreach (var s in sentences)
        {
            var cited = s.Citations.Select(n => sources.GetValueOrDefault(n)).Where(x => x is not null).ToList();
            foreach (var claim in Figures.Extract(s.Text))
            {
                figures++;
                if (cited.Exists(c => c!.Figures.Any(f => Figures.Supports(f, claim, currencyLessAmountsCount: c.Market is not null))))
                {
                    supported++;
                }
            }
        }

        return (figures, supported);
    }

    /// <summary>True when the answer states the fact: its figures as figures (any precision the fact is written to), else the words.</summary>
    public static bool States(string answer, IReadOnlyList<Figure> answerFigures, string fact)
    {
        ArgumentNullException.ThrowIfNull(answer);
        ArgumentNullException.ThrowIfNull(answerFigures);
        ArgumentNullException.ThrowIfNull(fact);
        var factFigures = Figures.Extract(fact);
        return factFigures.Count > 0
            ? factFigures.All(f => answerFigures.Any(a => Figures.Supports(a, f, currencyLessAmountsCount: true)))
            : answer.Contains(fact, StringComparison.OrdinalIgnoreCase);
    }

    private static IChatClient Chat(Kernel kernel) => kernel.GetRequiredService<IChatClient>();

    private static ChatOptions Options(ModelProfile profile) => new() { Temperature = profile.Temperature, MaxOutputTokens = profile.MaxOutputTokens };

    /// <summary>Records the text of every reply the model sends (the last one is the answer), beneath the token counter.</summary>
    private sealed class RecordingChatClientFactory
    {
        public string LastReply { get; private set; } = "";

        public void Clear() => LastReply = "";

        public IChatClient Wrap(IChatClient inner) => new Recording(inner, this);

        private sealed class Recording(IChatClient inner, RecordingChatClientFactory owner) : DelegatingChatClient(inner)
        {
            public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
                CancellationToken cancellationToken = default)
            {
                var response = await base.GetResponseAsync(messages, options, cancellationToken);
                if (!string.IsNullOrEmpty(response.Text))
                {
                    owner.LastReply = response.Text;
                }

                return response;
            }
        }
    }
}

/// <summary>A configuration of the evaluation: who answers (extractive or a model profile) and how.</summary>
public sealed record EvalConfiguration(string Name, string Label, string Model, string Mode, ModelProfile? Profile);

/// <summary>
/// The answer house style of Prompts/answer.txt as checks on the text a model wrote: plain sentences (no headings,
/// lists, bold or other markup), at most five, none longer than 40 words, no exclamation marks, no preamble or sign-off,
/// and, when sources were given, every sentence cited.
/// </summary>
public static partial class HouseStyle
{
    /// <summary>The rules the text breaks (empty when it follows the style).</summary>
    public static IReadOnlyList<string> Problems(string text, bool expectCitations)
    {
        ArgumentNullException.ThrowIfNull(text);
        var problems = new List<string>();
        var trimmed = text.Trim();
        if (trimmed.Length == 0)
        {
            return ["empty reply"];
        }

        if (trimmed.Equals(AnswerService.NoAnswer, StringComparison.Ordinal))
        {
            return [];
        }

        var lines = trimmed.Replace("\r", "", StringComparison.Ordinal).Split('\n');
        if (lines.Any(l => l.TrimStart().StartsWith('#')))
        {
            problems.Add("heading");
        }

        if (lines.Any(l => ListLine().IsMatch(l)))
        {
            problems.Add("list");
        }

        if (trimmed.Contains("**", StringComparison.Ordinal) || trimmed.Contains("__", StringComparison.Ordinal) || trimmed.Contains('`', StringComparison.Ordinal))
        {
            problems.Add("markup");
        }

        if (trimmed.Contains('!', StringComparison.Ordinal))
        {
            problems.Add("exclamation mark");
        }

        if (Preamble().IsMatch(trimmed) || SignOff().IsMatch(trimmed))
        {
            problems.Add("preamble or sign-off");
        }

        var sentences = AnswerService.Substantive(AnswerService.ParseSentences(trimmed));
        if (sentences.Count > 5)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"{sentences.Count} sentences (at most five)"));
        }

        if (sentences.Any(s => s.Text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length > 40))
        {
            problems.Add("a sentence over 40 words");
        }

        if (expectCitations && sentences.Any(s => s.Citations.Count == 0))
        {
            problems.Add("a sentence without a citation");
        }

        return problems;
    }

    [GeneratedRegex(@"^\s*(?:[-*•]|\d+[.)])\s+")]
    private static partial Regex ListLine();

    [GeneratedRegex(@"^(?:sure|certainly|of course|great question|good question|here(?:'s| is| are)|as an ai|absolutely)\b", RegexOptions.IgnoreCase)]
    private static partial Regex Preamble();

    [GeneratedRegex(@"(?:hope (?:this|that) helps|let me know|feel free to)", RegexOptions.IgnoreCase)]
    private static partial Regex SignOff();
}
