using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using FinNews.Core.Briefing;
using FinNews.Core.Feeds;
using FinNews.Core.Market;
using FinNews.Core.Models;

namespace FinNews.Core.Tuning;

/// <summary>How <see cref="TuningDataset"/> builds examples.</summary>
public sealed record TuningDatasetOptions
{
    /// <summary>The base model to be tuned: its tokenizer counts the tokens and its limits are checked.</summary>
    public string Model { get; init; } = "gpt-4o-mini-2024-07-18";

    /// <summary>Uncited articles from the same window mixed into each prompt, so the model learns to choose.</summary>
    public int Distractors { get; init; } = 2;

    /// <summary>Share of examples (the latest, by the instant their briefing covers) kept for validation.</summary>
    public double ValidationShare { get; init; } = 0.2;

    /// <summary>Replies as JSON matching <see cref="BulletFormats.JsonSchema"/> (what the writer asks of endpoints
    /// that support json_schema), else Markdown bullets.</summary>
    public bool JsonReplies { get; init; } = true;

    /// <summary>Company names by symbol (the watchlist), for market rows as the composer writes them.</summary>
    public IReadOnlyDictionary<string, string>? Names { get; init; }
}

/// <summary>One chat message of an example.</summary>
public sealed record TrainingMessage(string Role, string Content);

/// <summary>One training example: the writer's prompt for an approved section, and the approved text as the reply.</summary>
/// <param name="BriefingId">The approved briefing it comes from.</param>
/// <param name="Section">Section key.</param>
/// <param name="AsOf">The instant the briefing covers (the time split orders by it).</param>
/// <param name="Edited">An analyst edited the briefing before approving it.</param>
/// <param name="Messages">system, user (task and numbered sources), assistant (the approved bullets with citations).</param>
/// <param name="Tokens">Exact tokens of the example (<see cref="ModelTokenizer.CountChat"/>).</param>
/// <param name="Sources">Numbered sources in the prompt.</param>
/// <param name="Distractors">How many of them no bullet cites.</param>
/// <param name="Hash">SHA-256 of the messages: equal hashes are duplicates.</param>
public sealed record TuningExample(string BriefingId, string Section, DateTimeOffset AsOf, bool Edited,
    IReadOnlyList<TrainingMessage> Messages, int Tokens, int Sources, int Distractors, string Hash);

/// <summary>A section that could not become an example, and why.</summary>
public sealed record RefusedExample(string BriefingId, string Section, DateTimeOffset AsOf, IReadOnlyList<string> Reasons);

/// <summary>A section that was a duplicate of an earlier example.</summary>
public sealed record DuplicateExample(string BriefingId, string Section, string SameAsBriefingId);

/// <summary>The examples of a dataset, split by time, with what was refused or dropped as a duplicate.</summary>
public sealed record TuningDatasetBuild(
    IReadOnlyList<TuningExample> Training,
    IReadOnlyList<TuningExample> Validation,
    IReadOnlyList<RefusedExample> Refused,
    IReadOnlyList<DuplicateExample> Duplicates,
    int Briefings,
    string Model,
    string Encoding,
    IReadOnlyList<string> Notes);

/// <summary>
/// Builds the fine-tuning dataset from analyst-approved briefings: one chat example per approved section, in the exact
/// shape the <see cref="LlmWriter"/> sends (the writer's system prompt; the section prompt with numbered, fenced
/// sources; the reply format), with the approved bullets (after any analyst edit) as the reply and their citations
/// renumbered to the prompt's sources.
/// </summary>
/// <remarks>
/// <para>Sources are rebuilt from the store: each cited article (with its story siblings grouped as the composer groups
/// them) and each cited market row recomputed from the stored bars, plus <see cref="TuningDatasetOptions.Distractors"/>
/// uncited articles of the same window and point in time (other stories, never a sibling of a cited one), placed among
/// them at positions fixed by a hash, so a rebuild gives the same file.</para>
/// <para>Refused, with the reason: a section whose bullet cites a number the briefing does not list, an article no
/// longer stored or bars no longer stored (the source would be absent from the prompt), or a bullet the
/// <see cref="CitationValidator"/> rejects against the prompt's sources (training on it would teach the model to state
/// what its sources do not say).</para>
/// <para>Duplicates (equal messages, e.g. two versions of a day that wrote the same section) are kept once, the
/// earliest. The split is by time: examples are ordered by the instant their briefing covers, and the latest
/// <see cref="TuningDatasetOptions.ValidationShare"/> of them, whole instants only, form the validation set, so no
/// validation example precedes a training example.</para>
/// </remarks>
public sealed class TuningDataset
{
    private readonly IBriefingStore _briefings;
    private readonly IArticleStore _articles;
    private readonly IMarketStore _market;
    private readonly CitationValidator _validator;

    /// <param name="briefings">The approved briefings (any version) and their sources' ids.</param>
    /// <param name="articles">The cited articles, their story clusters and the window's distractors.</param>
    /// <param name="market">The bars that cited market rows are recomputed from.</param>
    /// <param name="validator">Checks every approved bullet against the prompt's sources.</param>
    public TuningDataset(IBriefingStore briefings, IArticleStore articles, IMarketStore market, CitationValidator validator)
    {
        ArgumentNullException.ThrowIfNull(briefings);
        ArgumentNullException.ThrowIfNull(articles);
        ArgumentNullException.ThrowIfNull(market);
        ArgumentNullException.ThrowIfNull(validator);
        _briefings = briefings;
        _articles = articles;
        _market = market;
        _validator = validator;
    }

    /// <summary>Builds the examples of every approved briefing in the store.</summary>
    public TuningDatasetBuild Build(TuningDatasetOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var tokenizer = ModelTokenizer.For(options.Model);
        var approved = _briefings.ApprovedBriefings();
        var examples = new List<TuningExample>();
        var refused = new List<RefusedExample>();
        var duplicates = new List<DuplicateExample>();
        var seen = new Dictionary<string, TuningExample>(StringComparer.Ordinal);
        foreach (var a in approved)
        {
            foreach (var section in a.Briefing.Sections.Where(s => s.Bullets.Count > 0))
            {
                var reasons = new List<string>();
                var example = BuildExample(a, section, options, tokenizer, reasons);
                if (example is null)
                {
                    refused.Add(new RefusedExample(a.Briefing.Id, section.Key, a.Briefing.CoveredUntil, reasons));
                    continue;
                }

                if (seen.TryGetValue(example.Hash, out var first))
                {
                    duplicates.Add(new DuplicateExample(example.BriefingId, example.Section, first.BriefingId));
                    continue;
                }

                seen[example.Hash] = example;
                examples.Add(example);
            }
        }

        var notes = new List<string>();
        var (training, validation) = SplitByTime(examples, options.ValidationShare, notes);
        if (!tokenizer.Exact)
        {
            notes.Add($"{options.Model} has no known tokenizer: token counts are an estimate (characters / 4).");
        }

        return new TuningDatasetBuild(training, validation, refused, duplicates, approved.Count, options.Model, tokenizer.Encoding, notes);
    }

    /// <summary>
    /// The latest share of examples by as-of instant, whole instants only, as validation; the rest as training. With one
    /// instant (or a share of 0) everything is training.
    /// </summary>
    public static (List<TuningExample> Training, List<TuningExample> Validation) SplitByTime(IReadOnlyList<TuningExample> examples,
        double validationShare, List<string>? notes = null)
    {
        ArgumentNullException.ThrowIfNull(examples);
        var ordered = examples.OrderBy(e => e.AsOf).ThenBy(e => e.BriefingId, StringComparer.Ordinal).ToList();
        var instants = ordered.Select(e => e.AsOf).Distinct().ToList();
        var wanted = (int)Math.Ceiling(ordered.Count * validationShare);
        if (wanted == 0 || instants.Count < 2)
        {
            if (wanted > 0)
            {
                notes?.Add("Every example covers the same instant: no validation set (it would have to precede or equal training).");
            }

            return (ordered, []);
        }

        // Take whole instants from the latest back while the validation set is smaller than wanted; keep one for training.
        var validation = new List<TuningExample>();
        for (var i = instants.Count - 1; i >= 1 && validation.Count < wanted; i--)
        {
            validation.InsertRange(0, ordered.Where(e => e.AsOf == instants[i]));
        }

        var cut = validation[0].AsOf;
        return (ordered.Where(e => e.AsOf < cut).ToList(), validation);
    }

    private TuningExample? BuildExample(ApprovedBriefing approved, BriefingSection section, TuningDatasetOptions options,
        ModelTokenizer tokenizer, List<string> reasons)
    {
        var briefing = approved.Briefing;
        var cited = section.Bullets.SelectMany(b => b.Citations).Distinct().ToList();
        var articles = new List<Article>();
        var markets = new List<MarketMove>();
        var keyOf = new Dictionary<int, string>();
        foreach (var n in cited)
        {
            var source = briefing.Source(n);
            if (source is null)
            {
                reasons.Add(string.Create(CultureInfo.InvariantCulture, $"a statement cites [{n}], which is not one of the briefing's sources"));
                continue;
            }

            if (source.Kind == SourceKind.MarketData)
            {
                if (BriefingEditChecker.MarketMoveFor(_market, source) is not { } move)
                {
                    reasons.Add(string.Create(CultureInfo.InvariantCulture, $"source [{n}] ({source.Title}): its market bars are no longer stored, so it cannot be in the prompt"));
                    continue;
                }

                move = options.Names?.GetValueOrDefault(move.Symbol) is { } name ? move with { Name = name } : move;
                markets.Add(move);
                keyOf[n] = ExtractiveWriter.MarketKey(move);
                continue;
            }

            if (source.ArticleId is null || _articles.GetArticle(source.ArticleId) is not { } article)
            {
                reasons.Add(string.Create(CultureInfo.InvariantCulture, $"source [{n}] (\"{source.Title}\") is no longer stored, so it cannot be in the prompt"));
                continue;
            }

            articles.Add(article);
            keyOf[n] = article.Id;
        }

        if (reasons.Count > 0)
        {
            return null;
        }

        var distractors = Distractors(briefing, section, articles, options.Distractors);
        var material = new SectionMaterial(section.Key, section.Title, Stories(briefing, section, articles, distractors), markets);
        var sources = LlmWriter.NumberSources(material);
        var numberOf = sources.ToDictionary(s => s.Key, s => s.Number, StringComparer.Ordinal);
        var byNumber = sources.ToDictionary(s => s.Number);
        var bullets = new List<ProposedBullet>();
        foreach (var (bullet, i) in section.Bullets.Select((b, i) => (b, i + 1)))
        {
            var renumbered = bullet.Citations.Select(n => numberOf[keyOf[n]]).Distinct().Order().ToList();
            var proposed = new ProposedBullet(bullet.Headline, bullet.Text, renumbered, []);
            foreach (var reason in _validator.Check(proposed, byNumber))
            {
                reasons.Add(string.Create(CultureInfo.InvariantCulture, $"statement {i} (\"{Shorten(bullet.Text)}\"): {reason}"));
            }

            bullets.Add(proposed);
        }

        if (reasons.Count > 0)
        {
            return null;
        }

        var format = PromptLibrary.Text(options.JsonReplies ? "format-json" : "format-markdown");
        var user = PromptLibrary.Text("section")
            .Replace("{{$section}}", LlmWriter.Escape(section.Title), StringComparison.Ordinal)
            .Replace("{{$sources}}", LlmWriter.FenceSources(material, sources), StringComparison.Ordinal)
            .Replace("{{$format}}", format, StringComparison.Ordinal);
        var reply = options.JsonReplies ? JsonReply(bullets) : string.Join("\n", bullets.Select(b => "- " + BulletFormats.Render(b)));
        List<TrainingMessage> messages =
        [
            new("system", PromptLibrary.WriterSystem),
            new("user", user),
            new("assistant", reply),
        ];
        var tokens = tokenizer.CountChat(messages.Select(m => (m.Role, m.Content)));
        var citedKeys = keyOf.Values.ToHashSet(StringComparer.Ordinal);
        return new TuningExample(briefing.Id, section.Key, briefing.CoveredUntil, approved.Edited, messages, tokens, sources.Count,
            sources.Count(s => !citedKeys.Contains(s.Key)), Hash(messages));
    }

    // Uncited articles of the briefing's window and point in time, not of a cited article's story, chosen by a hash of
    // (briefing, section, article) so a rebuild picks the same ones.
    private List<Article> Distractors(BriefingDocument briefing, BriefingSection section, List<Article> cited, int count)
    {
        if (count <= 0)
        {
            return [];
        }

        var candidates = _articles.ArticlesInWindow(briefing.WindowStart, briefing.WindowEnd, briefing.CoveredUntil);
        var clusters = _articles.ClusterIds(candidates.Select(a => a.Id).Concat(cited.Select(a => a.Id)));
        var citedIds = cited.Select(a => a.Id).ToHashSet(StringComparer.Ordinal);
        var citedClusters = cited.Select(a => clusters.GetValueOrDefault(a.Id)).Where(c => c is not null).ToHashSet(StringComparer.Ordinal);
        var usedClusters = new HashSet<string>(StringComparer.Ordinal);
        var chosen = new List<Article>();
        foreach (var a in candidates.OrderBy(a => Hash($"{briefing.Id}|{section.Key}|{a.Id}"), StringComparer.Ordinal))
        {
            var cluster = clusters.GetValueOrDefault(a.Id) ?? a.Id;
            if (citedIds.Contains(a.Id) || citedClusters.Contains(cluster) || !usedClusters.Add(cluster))
            {
                continue;
            }

            chosen.Add(a);
            if (chosen.Count == count)
            {
                break;
            }
        }

        return chosen;
    }

    // Cited articles grouped by story in order of first citation, with each distractor a story of its own inserted at a
    // position fixed by a hash.
    private List<StoryCluster> Stories(BriefingDocument briefing, BriefingSection section, List<Article> cited, List<Article> distractors)
    {
        var clusters = _articles.ClusterIds(cited.Select(a => a.Id));
        var stories = cited.GroupBy(a => clusters.GetValueOrDefault(a.Id) ?? a.Id, StringComparer.Ordinal)
            .Select(g => new StoryCluster(g.ToList())).ToList();
        foreach (var d in distractors)
        {
            var digest = SHA256.HashData(Encoding.UTF8.GetBytes($"{briefing.Id}|{section.Key}|{d.Id}|position"));
            stories.Insert((int)(BitConverter.ToUInt32(digest, 0) % (uint)(stories.Count + 1)), new StoryCluster([d]));
        }

        return stories;
    }

    private static string JsonReply(List<ProposedBullet> bullets)
    {
        var reply = new JsonReplyBody(bullets.Select(b => new JsonReplyBullet(b.Headline, b.Text, b.Citations)).ToList());
        return JsonSerializer.Serialize(reply, ReplyOptions.GetTypeInfo(typeof(JsonReplyBody)));
    }

    // The reply as a model would write it: "&" and quotes as themselves, not \u0026.
    private static readonly JsonSerializerOptions ReplyOptions = new(TuningJsonContext.Default.Options)
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private static string Hash(IEnumerable<TrainingMessage> messages) =>
        Hash(string.Join("\u0001", messages.Select(m => m.Role + "\u0002" + m.Content)));

    private static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    private static string Shorten(string s) => s.Length <= 60 ? s : s[..60] + "…";

    internal sealed record JsonReplyBody(IReadOnlyList<JsonReplyBullet> Bullets);

    internal sealed record JsonReplyBullet(string? Headline, string Text, IReadOnlyList<int> Citations);
}

/// <summary>JSON of the dataset files: compact lines of {"messages": [...]}, and the indented manifest.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(TuningDataset.JsonReplyBody))]
[JsonSerializable(typeof(TrainingLine))]
internal sealed partial class TuningJsonContext : JsonSerializerContext;

/// <summary>One line of a dataset file: only <c>messages</c> (the OpenAI API refuses other keys in an example).</summary>
internal sealed record TrainingLine(IReadOnlyList<TrainingMessage> Messages);
