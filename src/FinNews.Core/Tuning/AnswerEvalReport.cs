using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace FinNews.Core.Tuning;

/// <summary>What one configuration measured over the whole question set. Shares are 0..1; null where nothing was
/// there to measure (no citations to check, no figures written, no price configured).</summary>
public sealed record EvalSummary(
    string Configuration,
    string Model,
    string Mode,
    int Questions,
    double? Answered,
    double? AbstainedCorrectly,
    double? FactRecall,
    double? Freshness,
    double? CitationPrecision,
    double? CitationRecall,
    double? SourceRecall,
    double? FaithfulnessWritten,
    double? FaithfulnessShown,
    int FiguresInvented,
    int FiguresCaught,
    double HouseStyle,
    long LatencyP50Ms,
    long LatencyP95Ms,
    long PromptTokens,
    long CompletionTokens,
    decimal? Cost,
    int Errors,
    EvalJudgeSummary? Judge = null);

/// <summary>What the citation judge found for one configuration: its own precision (supported pairs / pairs; unclear
/// verdicts count against), the precision of validator and judge together, the pairs the validator passed and the judge
/// rejected, unclear verdicts, and what judging cost.</summary>
public sealed record EvalJudgeSummary(int Pairs, double? Precision, double? PrecisionWithValidator, int ValidatorPassedJudgeRejected, int Unclear,
    long PromptTokens, long CompletionTokens, decimal? Cost, string? Error);

/// <summary>
/// The result of <c>finnews eval answers</c>: every answer with its measurements, a summary per configuration, and the
/// trade-off table (freshness, attribution, speed, cost, domain accuracy), as Markdown, JSON and an HTML page with SVG
/// bar charts.
/// </summary>
public sealed record AnswerEvalReport(DateTimeOffset RanAt, int Questions, int Unanswerable, IReadOnlyList<EvalConfiguration> Configurations,
    IReadOnlyList<EvalOutcome> Outcomes, string? Judge = null)
{
    /// <summary>One summary per configuration, in run order.</summary>
    public IReadOnlyList<EvalSummary> Summaries => Configurations.Select(Summarize).ToList();

    private EvalSummary Summarize(EvalConfiguration c)
    {
        var all = Outcomes.Where(o => o.Configuration == c.Name).ToList();
        var answerable = all.Where(o => o.Answerable).ToList();
        var unanswerable = all.Where(o => !o.Answerable).ToList();
        var fresh = answerable.Where(o => o.AfterCutoff).ToList();
        double? Share(int part, int whole) => whole == 0 ? null : part / (double)whole;
        var latencies = all.Select(o => o.LatencyMs).Order().ToList();
        var invented = all.Sum(o => o.FiguresWritten - o.FiguresWrittenSupported);
        var shownUnsupported = all.Sum(o => o.FiguresShown - o.FiguresShownSupported);
        return new EvalSummary(c.Name, c.Model, c.Mode, all.Count,
            Share(answerable.Count(o => !o.Abstained), answerable.Count),
            Share(unanswerable.Count(o => o.Abstained), unanswerable.Count),
            Share(answerable.Sum(o => o.FactsFound), answerable.Sum(o => o.FactsExpected)),
            Share(fresh.Sum(o => o.FactsFound), fresh.Sum(o => o.FactsExpected)),
            Share(all.Sum(o => o.SupportedPairs), all.Sum(o => o.CitationPairs)),
            Share(all.Sum(o => o.SentencesSupported), all.Sum(o => o.Sentences)),
            Share(all.Sum(o => o.GoldSourcesCited), all.Sum(o => o.GoldSources)),
            Share(all.Sum(o => o.FiguresWrittenSupported), all.Sum(o => o.FiguresWritten)),
            Share(all.Sum(o => o.FiguresShownSupported), all.Sum(o => o.FiguresShown)),
            invented,
            Math.Max(0, invented - shownUnsupported),
            all.Count == 0 ? 0 : all.Count(o => o.StyleProblems.Count == 0) / (double)all.Count,
            Percentile(latencies, 0.50),
            Percentile(latencies, 0.95),
            all.Sum(o => o.PromptTokens),
            all.Sum(o => o.CompletionTokens),
            all.All(o => o.Cost is not null) ? all.Sum(o => o.Cost!.Value) : null,
            all.Count(o => o.Error is not null),
            Judge is null ? null : JudgeSummary(all.Where(o => o.Judge is not null).Select(o => o.Judge!).ToList()));
    }

    private static EvalJudgeSummary JudgeSummary(List<JudgeOutcome> judged)
    {
        var pairs = judged.Sum(j => j.Pairs);
        double? Share(int part) => pairs == 0 ? null : part / (double)pairs;
        return new EvalJudgeSummary(pairs, Share(judged.Sum(j => j.Supported)), Share(judged.Sum(j => j.BothSupported)),
            judged.Sum(j => j.ValidatorPassedJudgeRejected), judged.Sum(j => j.Unclear), judged.Sum(j => j.PromptTokens), judged.Sum(j => j.CompletionTokens),
            judged.All(j => j.Cost is not null) ? judged.Sum(j => j.Cost!.Value) : null, judged.Select(j => j.Error).FirstOrDefault(e => e is not null));
    }

    private static long Percentile(List<long> sorted, double p) =>
        sorted.Count == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];

    private static string Pct(double? v) => v is { } x ? (x * 100).ToString("0", CultureInfo.InvariantCulture) + " %" : "–";

    private static string Money(decimal? v) => v is { } x ? "$" + x.ToString("0.0000", CultureInfo.InvariantCulture) : "no price";

    /// <summary>The summary table and the trade-off table in Markdown.</summary>
    public string ToMarkdown()
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(c, $"# Answer evaluation: {Questions} questions ({Unanswerable} the news cannot answer)\n\n");
        sb.Append("| configuration | model | answered | abstained right | fact recall | freshness | citation precision | citation recall | source recall | figures backed (written) | figures backed (shown) | invented figures caught | house style | p50 ms | p95 ms | tokens in / out | cost |\n");
        sb.Append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        foreach (var s in Summaries)
        {
            sb.Append(c, $"| {s.Configuration} | {s.Model} | {Pct(s.Answered)} | {Pct(s.AbstainedCorrectly)} | {Pct(s.FactRecall)} | {Pct(s.Freshness)} | ")
                .Append(c, $"{Pct(s.CitationPrecision)} | {Pct(s.CitationRecall)} | {Pct(s.SourceRecall)} | {Pct(s.FaithfulnessWritten)} | {Pct(s.FaithfulnessShown)} | ")
                .Append(c, $"{s.FiguresCaught} of {s.FiguresInvented} | {Pct(s.HouseStyle)} | {s.LatencyP50Ms} | {s.LatencyP95Ms} | {s.PromptTokens} / {s.CompletionTokens} | {Money(s.Cost)} |\n");
        }

        if (Judge is not null)
        {
            sb.Append(c, $"\n## Citation judge: {Judge}\n\nEach (sentence, cited source) pair graded by the judge model; the validator checks only figures and tickers.\n\n")
                .Append("| configuration | pairs judged | judge precision | validator and judge | validator passed, judge rejected | unclear verdicts | judge tokens in / out | judge cost |\n")
                .Append("|---|---|---|---|---|---|---|---|\n");
            foreach (var s in Summaries.Where(s => s.Judge is not null))
            {
                var j = s.Judge!;
                sb.Append(c, $"| {s.Configuration} | {j.Pairs} | {Pct(j.Precision)} | {Pct(j.PrecisionWithValidator)} | {j.ValidatorPassedJudgeRejected} | {j.Unclear} | {j.PromptTokens} / {j.CompletionTokens} | {Money(j.Cost)} |\n");
            }

            if (Summaries.Select(s => s.Judge?.Error).FirstOrDefault(e => e is not null) is { } failure)
            {
                sb.Append(c, $"\nThe judge failed at least once ({failure}); failed calls count as unclear.\n");
            }
        }

        sb.Append("\n## Trade-offs\n\n| | ").AppendJoin(" | ", Summaries.Select(s => s.Configuration)).Append(" |\n|---|")
            .Append(string.Concat(Summaries.Select(_ => "---|"))).Append('\n');
        void Row(string name, Func<EvalSummary, string> value) =>
            sb.Append("| ").Append(name).Append(" | ").AppendJoin(" | ", Summaries.Select(value)).Append(" |\n");
        Row("freshness (facts of news after the model's cutoff)", s => Pct(s.Freshness));
        Row("attribution (citations that hold their sentence)", s => s.CitationPairs() == 0 ? "no citations" : Pct(s.CitationPrecision));
        if (Judge is not null)
        {
            Row("attribution, judged (validator and judge agree)", s => s.CitationPairs() == 0 ? "no citations" : Pct(s.Judge?.PrecisionWithValidator));
        }

        Row("speed (p50 / p95 ms)", s => string.Create(c, $"{s.LatencyP50Ms} / {s.LatencyP95Ms}"));
        Row("cost (question set)", s => Money(s.Cost));
        Row("domain accuracy (expected facts stated)", s => Pct(s.FactRecall));
        sb.Append("\nFigures backed: share of figures (amounts, %, bp, dates, numbers) that appear in a source the sentence cites; ")
            .Append("\"written\" is the model's reply before the citation check, \"shown\" what a reader gets after it. ")
            .Append("Closed-book answers are shown as written (nothing to check them against). Latency is wall time per answer; ")
            .Append("tokens are prompt tokens counted with the model's tokenizer and completion tokens the endpoint reported.\n");
        return sb.ToString();
    }

    /// <summary>The report as JSON: summaries and every answer.</summary>
    public string ToJson() => JsonSerializer.Serialize(new EvalJson(RanAt, Questions, Unanswerable, Summaries, Outcomes, Judge),
        new JsonSerializerOptions(EvalReportJsonContext.Default.Options) { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }.GetTypeInfo(typeof(EvalJson)));

    /// <summary>A self-contained HTML page: the tables and an SVG bar chart per measure. Every model text is encoded.</summary>
    public string ToHtml()
    {
        var c = CultureInfo.InvariantCulture;
        var summaries = Summaries;
        var sb = new StringBuilder("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>FinNews answer evaluation</title>")
            .Append("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">")
            .Append("<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse;margin:1em 0}")
            .Append("td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}td:first-child,th:first-child{text-align:left}")
            .Append(".charts{display:flex;flex-wrap:wrap;gap:1.5em}figure{margin:0}figcaption{font-weight:600}</style></head><body>")
            .Append(c, $"<h1>Answer evaluation</h1><p>{Questions} questions, {Unanswerable} of them about things the stored news does not say.</p>");
        sb.Append("<table><tr><th>configuration</th><th>model</th><th>answered</th><th>abstained right</th><th>fact recall</th><th>freshness</th><th>citation precision</th><th>citation recall</th><th>figures backed (written)</th><th>figures backed (shown)</th><th>invented figures caught</th><th>house style</th><th>p50 ms</th><th>p95 ms</th><th>cost</th></tr>");
        foreach (var s in summaries)
        {
            sb.Append(c, $"<tr><td>{E(s.Configuration)}</td><td>{E(s.Model)}</td><td>{Pct(s.Answered)}</td><td>{Pct(s.AbstainedCorrectly)}</td><td>{Pct(s.FactRecall)}</td><td>{Pct(s.Freshness)}</td>")
                .Append(c, $"<td>{Pct(s.CitationPrecision)}</td><td>{Pct(s.CitationRecall)}</td><td>{Pct(s.FaithfulnessWritten)}</td><td>{Pct(s.FaithfulnessShown)}</td>")
                .Append(c, $"<td>{s.FiguresCaught} of {s.FiguresInvented}</td><td>{Pct(s.HouseStyle)}</td><td>{s.LatencyP50Ms}</td><td>{s.LatencyP95Ms}</td><td>{E(Money(s.Cost))}</td></tr>");
        }

        sb.Append("</table><div class=\"charts\">");
        sb.Append(Bars("Freshness", summaries, s => s.Freshness)).Append(Bars("Citation precision", summaries, s => s.CitationPrecision));
        if (Judge is not null)
        {
            sb.Append(Bars("Citation precision, validator and judge", summaries, s => s.Judge?.PrecisionWithValidator));
        }

        sb
            .Append(Bars("Figures backed, as shown", summaries, s => s.FaithfulnessShown)).Append(Bars("Domain accuracy (fact recall)", summaries, s => s.FactRecall))
            .Append(Bars("House style", summaries, s => s.HouseStyle));
        var slowest = Math.Max(1, summaries.Max(s => s.LatencyP50Ms));
        sb.Append(Bars(string.Create(c, $"Latency p50 (bar = ms / {slowest})"), summaries, s => s.LatencyP50Ms / (double)slowest));
        sb.Append("</div><h2>Answers</h2><table><tr><th>configuration</th><th>question</th><th>answer</th><th>style problems</th></tr>");
        foreach (var o in Outcomes)
        {
            sb.Append(c, $"<tr><td>{E(o.Configuration)}</td><td>{E(o.QuestionId)}</td><td style=\"text-align:left\">{E(o.Answer)}</td><td>{E(string.Join(", ", o.StyleProblems))}</td></tr>");
        }

        return sb.Append("</table></body></html>").ToString();
    }

    // One horizontal bar per configuration, 0..100 %.
    private static string Bars(string title, IReadOnlyList<EvalSummary> summaries, Func<EvalSummary, double?> value)
    {
        var c = CultureInfo.InvariantCulture;
        const int label = 170, width = 200, row = 18;
        var svg = new StringBuilder().Append(c, $"<figure><figcaption>{E(title)}</figcaption><svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" width=\"{label + width + 50}\" height=\"{summaries.Count * row + 4}\" aria-label=\"{E(title)}\">");
        foreach (var (s, i) in summaries.Select((s, i) => (s, i)))
        {
            var v = value(s);
            var y = i * row + 2;
            svg.Append(c, $"<text x=\"0\" y=\"{y + 12}\" font-size=\"11\">{E(s.Configuration)}</text>");
            if (v is { } x)
            {
                svg.Append(c, $"<rect x=\"{label}\" y=\"{y}\" width=\"{Math.Round(Math.Clamp(x, 0, 1) * width, 1)}\" height=\"{row - 5}\" fill=\"#3b6ea5\"/>")
                    .Append(c, $"<text x=\"{label + Math.Clamp(x, 0, 1) * width + 4:0.#}\" y=\"{y + 12}\" font-size=\"11\">{Pct(x)}</text>");
            }
            else
            {
                svg.Append(c, $"<text x=\"{label}\" y=\"{y + 12}\" font-size=\"11\" fill=\"#777\">n/a</text>");
            }
        }

        return svg.Append("</svg></figure>").ToString();
    }

    private static string E(string text) => WebUtility.HtmlEncode(text);

    internal sealed record EvalJson(DateTimeOffset RanAt, int Questions, int Unanswerable, IReadOnlyList<EvalSummary> Summaries, IReadOnlyList<EvalOutcome> Answers,
        string? Judge);
}

internal static class EvalSummaryExtensions
{
    /// <summary>True-ish count: whether the configuration cited anything at all.</summary>
    public static int CitationPairs(this EvalSummary summary) => summary.CitationPrecision is null ? 0 : 1;
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true)]
[JsonSerializable(typeof(AnswerEvalReport.EvalJson))]
internal sealed partial class EvalReportJsonContext : JsonSerializerContext;
