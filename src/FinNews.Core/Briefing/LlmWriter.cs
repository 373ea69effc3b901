using System.Globalization;
using System.Text;
using System.Text.Json;
using FinNews.Core.Models;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.SemanticKernel;

namespace FinNews.Core.Briefing;

/// <summary>
/// The hybrid writer: the finance-tuned model profile writes each section from fresh, numbered sources (a Semantic
/// Kernel prompt function, <see cref="PromptLibrary.WriteSection"/>, on the profile's kernel), and every
/// statement is checked by the <see cref="CitationValidator"/>. Violations get one repair round; statements still
/// violating are dropped and recorded; if the model fails, the extractive writer fills in and the report says so.
/// </summary>
/// <remarks>
/// Per section: sources are numbered from 1 (number → article id or market key, the keys <see cref="ExtractiveWriter"/>
/// uses) and fenced as untrusted data in <c>&lt;source&gt;</c> blocks whose text is entity-escaped, so nothing in a feed
/// can close the fence or pose as an instruction outside it; the system prompt is constant. Output is JSON against
/// <see cref="BulletFormats.JsonSchema"/> when the profile supports json_schema, else strict Markdown bullets.
/// Context budget: the sources are fenced one by one and taken in rank order while they fit the model's window less
/// the reply allowance and the fixed prompt (exact counts for known model families, <see cref="ModelTokenizer"/>);
/// the lowest-ranked are left out whole, with a note.
/// A transport failure (after the client's retries) or timeout makes this and every later section extractive, since
/// calling a failing endpoint again only adds latency; an unreadable reply after repair affects its section only.
/// </remarks>
public sealed class LlmWriter : IReportingBriefingWriter
{
    internal const int MaxSourceChars = 1500;
    private readonly Kernel _kernel;
    private readonly ModelTokenizer _tokenizer;
    private readonly ModelProfile _profile;
    private readonly CitationValidator _validator;
    private readonly ExtractiveWriter _fallback;
    private readonly TimeProvider _time;
    private readonly ILogger<LlmWriter> _logger;

    /// <param name="kernel">The briefing profile's kernel (<see cref="ModelKernels"/>).</param>
    /// <param name="profile">The profile: model id, output format support.</param>
    /// <param name="validator">Checks each statement against its cited sources.</param>
    /// <param name="time">Clock for latency.</param>
    /// <param name="logger">Logs fallbacks and drops.</param>
    /// <param name="fallback">Writes sections the model could not (default: a new <see cref="ExtractiveWriter"/>).</param>
    public LlmWriter(Kernel kernel, ModelProfile profile, CitationValidator validator, TimeProvider time, ILogger<LlmWriter> logger,
        ExtractiveWriter? fallback = null)
    {
        ArgumentNullException.ThrowIfNull(profile);
        _kernel = kernel;
        _tokenizer = ModelTokenizer.For(profile.Model);
        _profile = profile;
        _validator = validator;
        _time = time;
        _logger = logger;
        _fallback = fallback ?? new ExtractiveWriter();
    }

    /// <inheritdoc/>
    public string Name => "llm";

    /// <summary>The constant system prompt (Prompts/system.txt).</summary>
    public static string SystemPrompt => PromptLibrary.WriterSystem;

    /// <inheritdoc/>
    public async Task<IReadOnlyList<DraftSection>> WriteAsync(IReadOnlyList<SectionMaterial> material, CancellationToken cancellationToken) =>
        (await WriteWithReportAsync(material, cancellationToken)).Sections;

    /// <inheritdoc/>
    public async Task<WriterOutcome> WriteWithReportAsync(IReadOnlyList<SectionMaterial> material, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(material);
        var sections = new List<DraftSection>();
        var runs = new List<SectionRun>();
        var dropped = new List<DroppedBullet>();
        var notes = new List<string>();
        var fellBack = new List<string>();
        string? modelId = null;
        string? failure = null;
        foreach (var m in material)
        {
            var sources = NumberSources(m);
            if (failure is not null || sources.Count == 0)
            {
                if (failure is not null)
                {
                    fellBack.Add(m.Title);
                }

                sections.Add(await FallbackAsync(m, cancellationToken));
                runs.Add(new SectionRun(m.Key, sources.Count, 0, 0, 0, 0, 0, 0, 0, 0, false,
                    sections[^1].Bullets.Count, 0, failure is not null));
                continue;
            }

            var run = new SectionState(m, Fit(m, sources, out var leftOut)) { LeftOut = leftOut };
            if (leftOut > 0)
            {
                notes.Add(string.Create(CultureInfo.InvariantCulture,
                    $"{leftOut} lower-ranked source(s) of \"{m.Title}\" were left out to fit the model's context window."));
            }

            try
            {
                var draft = await WriteSectionAsync(run, cancellationToken);
                modelId ??= run.ModelId;
                if (draft is null)
                {
                    fellBack.Add(m.Title);
                    notes.Add($"The model's reply for \"{m.Title}\" could not be read after a repair round ({run.LastError}); the extractive writer wrote that section.");
                    draft = await FallbackAsync(m, cancellationToken);
                    run.FellBack = true;
                }

                sections.Add(draft);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                // Exceptions from the client (HTTP errors after retries, timeouts, protocol errors) all mean the same
                // thing here: the model is not available now, and the briefing must still be written.
                failure = Describe(ex);
                _logger.LogWarning(ex, "Model profile {Profile} failed on section {Section}; falling back to the extractive writer", _profile.Name, m.Key);
                fellBack.Add(m.Title);
                sections.Add(await FallbackAsync(m, cancellationToken));
                run.FellBack = true;
            }

            dropped.AddRange(run.Dropped);
            runs.Add(run.ToRun(sections[^1].Bullets.Count));
        }

        if (failure is not null)
        {
            notes.Insert(0, $"The language model ({_profile.Name}: {_profile.Model}) failed ({failure}); the extractive writer wrote {string.Join(", ", fellBack.Select(t => $"\"{t}\""))}.");
        }

        if (dropped.Count > 0)
        {
            notes.Add(string.Create(CultureInfo.InvariantCulture,
                $"{dropped.Count} model statement(s) were removed because they failed citation checks after a repair round."));
        }

        var writer = runs.Count(r => r.Calls > 0 && !r.FellBack) switch
        {
            0 when runs.Exists(r => r.FellBack) => "extractive",
            0 => "llm",
            _ when runs.Exists(r => r.FellBack) => "llm+extractive",
            _ => "llm",
        };
        var report = new WriterReport(writer, _profile.Name, modelId ?? _profile.Model,
            runs.Sum(r => r.InputTokens), runs.Sum(r => r.OutputTokens), runs.Sum(r => r.Calls), runs.Sum(r => r.LatencyMs),
            runs.Sum(r => r.ValidatorMs), notes, dropped, runs, runs.Sum(r => r.CountedPromptTokens), _tokenizer.Encoding);
        return new WriterOutcome(sections, report);
    }

    private async Task<DraftSection?> WriteSectionAsync(SectionState s, CancellationToken cancellationToken)
    {
        var format = Format();
        var prompt = new SectionPromptArguments(Escape(s.Material.Title), FenceSources(s.Material, s.Sources), format);
        var reply = await CallAsync(s, PromptLibrary.WriteSection, prompt.ToKernelArguments(Settings()), cancellationToken);
        s.PromptTokens = (int)s.CountedPromptTokens;
        var parsed = Parse(reply);
        var byNumber = s.Sources.ToDictionary(x => x.Number);
        if (parsed.Failed)
        {
            // Unreadable: ask once for the whole section again.
            s.Repaired = true;
            parsed = Parse(await CallAsync(s, PromptLibrary.RepairFormat,
                new FormatRepairArguments(prompt, reply, parsed.Error ?? "").ToKernelArguments(Settings()), cancellationToken));
            if (parsed.Failed)
            {
                s.LastError = parsed.Error;
                return null;
            }

            var second = Validate(s, parsed.Bullets, byNumber);
            s.FirstRoundViolations = second.Violations.Count;
            Drop(s, second.Violations);
            return ToDraft(s, second.Checks.Where(c => c.Passed).Select(c => c.Bullet));
        }

        var first = Validate(s, parsed.Bullets, byNumber);
        var violations = first.Violations;
        s.FirstRoundViolations = violations.Count;
        var kept = first.Checks.Where(c => c.Passed).Select(c => c.Bullet).ToList();
        if (violations.Count == 0)
        {
            return ToDraft(s, kept);
        }

        var problems = new StringBuilder();
        var i = 0;
        foreach (var v in violations)
        {
            problems.Append(CultureInfo.InvariantCulture, $"{++i}. {BulletFormats.Render(v.Bullet)}\n   Problems: {string.Join("; ", v.Reasons)}\n");
        }

        s.Repaired = true;
        var repaired = Parse(await CallAsync(s, PromptLibrary.RepairSection,
            new SectionRepairArguments(prompt, reply, problems.ToString().TrimEnd()).ToKernelArguments(Settings()), cancellationToken));
        if (repaired.Failed)
        {
            Drop(s, violations, $"repair reply unreadable: {repaired.Error}");
            return ToDraft(s, kept);
        }

        var again = Validate(s, repaired.Bullets, byNumber);
        Drop(s, again.Violations);
        kept.AddRange(again.Checks.Where(c => c.Passed).Select(c => c.Bullet));
        return ToDraft(s, kept);
    }

    private string Format() => _profile.SupportsJsonSchema ? PromptLibrary.Text("format-json") : PromptLibrary.Text("format-markdown");

    // The sources that fit the model's window for this section, best-ranked first; the rest are left out whole.
    private List<NumberedSource> Fit(SectionMaterial m, IReadOnlyList<NumberedSource> sources, out int leftOut)
    {
        var fixedTokens = _tokenizer.CountChat([("system", SystemPrompt), ("user", PromptLibrary.Text("section") + m.Title + Format())]);
        var fit = ContextBudget.Fit(sources.Select(x => FenceSources(m, [x])).ToList(), ContextBudget.ForSources(_profile, fixedTokens), _tokenizer);
        leftOut = fit.LeftOut;
        return sources.Take(fit.Kept).ToList();
    }

    private PromptExecutionSettings Settings()
    {
        var settings = new PromptExecutionSettings { ExtensionData = new Dictionary<string, object>(StringComparer.Ordinal) };
        if (_profile.Temperature is { } temperature)
        {
            settings.ExtensionData["temperature"] = temperature;
        }

        if (_profile.MaxOutputTokens is { } max)
        {
            settings.ExtensionData["max_tokens"] = max;
        }

        if (_profile.SupportsJsonSchema)
        {
            settings.ExtensionData["response_format"] = SchemaElement;
        }

        return settings;
    }

    private async Task<string> CallAsync(SectionState s, KernelFunction function, KernelArguments arguments, CancellationToken cancellationToken)
    {
        var ledger = new TokenLedger();
        var started = _time.GetTimestamp();
        try
        {
            using (TokenLedger.Begin(ledger))
            {
                var result = await _kernel.InvokeAsync(function, arguments, cancellationToken);
                var response = result.GetValue<ChatResponse>();
                s.ModelId ??= response?.ModelId;
                return response?.Text ?? result.GetValue<object>()?.ToString() ?? "";
            }
        }
        finally
        {
            s.Calls++;
            s.InputTokens += ledger.InputTokens;
            s.OutputTokens += ledger.OutputTokens;
            s.CountedPromptTokens += ledger.CountedPromptTokens.Sum();
            s.LatencyMs += (long)_time.GetElapsedTime(started).TotalMilliseconds;
        }
    }

    private ParsedReply Parse(string reply) =>
        _profile.SupportsJsonSchema ? BulletFormats.ParseJson(reply) : BulletFormats.ParseMarkdown(reply);

    private ValidationReport Validate(SectionState s, IReadOnlyList<ProposedBullet> bullets, Dictionary<int, NumberedSource> sources)
    {
        var report = _validator.Validate(bullets, sources);
        s.ValidatorMs += report.Elapsed.TotalMilliseconds;
        return report;
    }

    private void Drop(SectionState s, IEnumerable<BulletCheck> checks, string? extra = null)
    {
        foreach (var c in checks)
        {
            var reasons = extra is null ? c.Reasons : [.. c.Reasons, extra];
            s.Dropped.Add(new DroppedBullet(s.Material.Key, BulletFormats.Render(c.Bullet), reasons));
            _logger.LogInformation("Dropped a {Section} statement: {Reasons}", s.Material.Key, string.Join("; ", reasons));
        }
    }

    private static DraftSection ToDraft(SectionState s, IEnumerable<ProposedBullet> bullets)
    {
        var keys = s.Sources.ToDictionary(x => x.Number, x => x.Key);
        var drafts = bullets.Select(b => new DraftBullet(b.Headline, b.Text, b.Citations.Select(n => keys[n]).Distinct(StringComparer.Ordinal).ToList()))
            .ToList();
        return new DraftSection(s.Material.Key, s.Material.Title, drafts);
    }

    private async Task<DraftSection> FallbackAsync(SectionMaterial m, CancellationToken cancellationToken) =>
        (await _fallback.WriteAsync([m], cancellationToken))[0];

    /// <summary>Numbers a section's sources from 1: each article of each story in order, then each market row.</summary>
    public static IReadOnlyList<NumberedSource> NumberSources(SectionMaterial material)
    {
        ArgumentNullException.ThrowIfNull(material);
        var sources = new List<NumberedSource>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var story in material.Stories)
        {
            foreach (var a in story.Articles)
            {
                if (seen.Add(a.Id))
                {
                    var text = $"{a.Title}\n{Excerpt(a.Summary, a.Body)}";
                    sources.Add(new NumberedSource(sources.Count + 1, a.Id, text, a.Tickers, DateOnly.FromDateTime(a.PublishedAt.UtcDateTime)));
                }
            }
        }

        foreach (var move in material.Markets)
        {
            var c = CultureInfo.InvariantCulture;
            var text = new StringBuilder()
                .Append(c, $"{move.Symbol}{(move.Name is null ? "" : $" ({move.Name})")} daily bar {move.Latest.Date:yyyy-MM-dd}: ")
                .Append(c, $"open {move.Latest.Open:0.00}, high {move.Latest.High:0.00}, low {move.Latest.Low:0.00}, close {move.Latest.Close:0.00}, volume {move.Latest.Volume}");
            if (move.DayChangePercent is { } day)
            {
                text.Append(c, $"; change on the day {day:+0.00;-0.00;0.00}%");
            }

            if (move.FiveDayChangePercent is { } week)
            {
                text.Append(c, $"; change over five sessions {week:+0.00;-0.00;0.00}%");
            }

            if (move.Latest.Flags.Count > 0)
            {
                text.Append("; data flagged: ").AppendJoin(", ", move.Latest.Flags);
            }

            sources.Add(new NumberedSource(sources.Count + 1, ExtractiveWriter.MarketKey(move), text.ToString(), [move.Symbol],
                move.Latest.Date, move));
        }

        return sources;
    }

    /// <summary>
    /// The sources as fenced blocks. Every character that could end or fake a block (&lt; &gt; &amp; and quotes in
    /// attributes) is entity-escaped, so "&lt;/source&gt;" or "Ignore previous instructions" in a feed stays inside its
    /// block as data.
    /// </summary>
    public static string FenceSources(SectionMaterial material, IReadOnlyList<NumberedSource> sources)
    {
        ArgumentNullException.ThrowIfNull(material);
        ArgumentNullException.ThrowIfNull(sources);
        var storyOf = new Dictionary<string, (int Story, Feeds.Article Article)>(StringComparer.Ordinal);
        for (var i = 0; i < material.Stories.Count; i++)
        {
            foreach (var a in material.Stories[i].Articles)
            {
                storyOf.TryAdd(a.Id, (i + 1, a));
            }
        }

        var sb = new StringBuilder();
        foreach (var s in sources)
        {
            sb.Append(CultureInfo.InvariantCulture, $"<source id=\"{s.Number}\"");
            if (storyOf.TryGetValue(s.Key, out var entry))
            {
                sb.Append(CultureInfo.InvariantCulture, $" story=\"{entry.Story}\" outlet=\"{Escape(entry.Article.Outlet)}\" published=\"{entry.Article.PublishedAt.UtcDateTime:yyyy-MM-dd HH:mm} UTC\"");
                if (entry.Article.Tickers.Count > 0)
                {
                    sb.Append(" tickers=\"").Append(Escape(string.Join(",", entry.Article.Tickers))).Append('"');
                }
            }
            else
            {
                sb.Append(" kind=\"market data\"");
            }

            sb.Append(">\n").Append(Escape(s.Text)).Append("\n</source>\n");
        }

        return sb.ToString().TrimEnd();
    }

    /// <summary>Entity-escapes &amp; &lt; &gt; and double quotes.</summary>
    public static string Escape(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal)
            .Replace(">", "&gt;", StringComparison.Ordinal).Replace("\"", "&quot;", StringComparison.Ordinal);
    }

    /// <summary>Summary and body as one source text, cut at <see cref="MaxSourceChars"/> (shared with the answer service).</summary>
    internal static string Excerpt(string summary, string body)
    {
        var text = string.IsNullOrWhiteSpace(body) || body.StartsWith(summary, StringComparison.Ordinal) && summary.Length > 0
            ? (string.IsNullOrWhiteSpace(body) ? summary : body)
            : $"{summary}\n{body}";
        return Cut(text, MaxSourceChars);
    }

    /// <summary>
    /// The text up to <paramref name="maxChars"/>, ended at the last sentence end that fits (else the last word), with
    /// " …" to say that more follows: a source never reaches the model stopped mid-sentence when a sentence end exists.
    /// </summary>
    internal static string Cut(string text, int maxChars)
    {
        if (text.Length <= maxChars)
        {
            return text;
        }

        var window = text[..maxChars];
        var end = -1;
        for (var i = window.Length - 1; i > maxChars / 3; i--)
        {
            if (window[i] is '.' or '!' or '?' && (i + 1 == text.Length || char.IsWhiteSpace(text[i + 1])))
            {
                end = i + 1;
                break;
            }
        }

        if (end < 0)
        {
            var space = window.LastIndexOf(' ');
            end = space > 0 ? space : maxChars;
        }

        return window[..end].TrimEnd() + " …";
    }


    /// <summary>A short reader-facing reason for a model failure ("HTTP 500", "timed out").</summary>
    internal static string Describe(Exception ex) => ex switch
    {
        System.ClientModel.ClientResultException { Status: > 0 } c => string.Create(CultureInfo.InvariantCulture, $"HTTP {c.Status}"),
        AggregateException a when a.InnerExceptions.All(e => e is OperationCanceledException) => "timed out",
        OperationCanceledException or TimeoutException => "timed out",
        AggregateException a => Describe(a.InnerExceptions[^1]),
        _ => ex.GetType().Name,
    };

    private static readonly JsonElement SchemaElement = JsonDocument.Parse(BulletFormats.JsonSchema).RootElement.Clone();

    // Mutable per-section bookkeeping while one section is written.
    private sealed class SectionState(SectionMaterial material, IReadOnlyList<NumberedSource> sources)
    {
        public SectionMaterial Material { get; } = material;
        public IReadOnlyList<NumberedSource> Sources { get; } = sources;
        public List<DroppedBullet> Dropped { get; } = [];
        public int PromptTokens { get; set; }
        public long CountedPromptTokens { get; set; }
        public int LeftOut { get; set; }
        public long InputTokens { get; set; }
        public long OutputTokens { get; set; }
        public int Calls { get; set; }
        public long LatencyMs { get; set; }
        public double ValidatorMs { get; set; }
        public int FirstRoundViolations { get; set; }
        public bool Repaired { get; set; }
        public bool FellBack { get; set; }
        public string? ModelId { get; set; }
        public string? LastError { get; set; }

        public SectionRun ToRun(int bullets) => new(Material.Key, Sources.Count, LeftOut, PromptTokens,
            InputTokens, OutputTokens, Calls, LatencyMs, ValidatorMs, FirstRoundViolations, Repaired, bullets, Dropped.Count, FellBack, CountedPromptTokens);
    }
}
