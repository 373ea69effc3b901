using System.Globalization;

namespace FinNews.Core.Search;

/// <summary>A chunk in one ranking (best first), before its text is read.</summary>
/// <param name="ArticleId">The article the chunk belongs to.</param>
/// <param name="ChunkId">Deterministic chunk id, <c>{articleId}#{n}</c>.</param>
/// <param name="Score">The ranking's own score (BM25, cosine, or fused); higher is better.</param>
/// <param name="PublishedMs">The article's publication time (Unix milliseconds), for recency decay.</param>
public readonly record struct RankedChunk(string ArticleId, string ChunkId, double Score, long PublishedMs);

/// <summary>
/// How hybrid search fuses its lexical and vector rankings. One definition for every backend, so an evaluation on the
/// embedded index carries over to Elasticsearch (its client-side path runs the very same <see cref="HybridRanking.Fuse"/>).
/// </summary>
/// <param name="Fusion">Convex score mix or weighted reciprocal rank.</param>
/// <param name="VectorWeight">Weight of the vector side, 0 (lexical only) to 1 (vector only).</param>
/// <param name="RrfK">The reciprocal-rank smoothing constant.</param>
/// <param name="VectorFloor">
/// The relevance floor of hybrid search: the least cosine similarity a vector hit needs to be returned when the lexical
/// ranking did not find it too (vector mode, a diagnostic view of the embedder, lists its nearest neighbours as they
/// are). Without it, a query the stored news cannot answer
/// ("bitcoin etf" over a day with no bitcoin news) still lists the nearest, unrelated chunks, because every chunk has
/// some nearest neighbour. 0 keeps every hit.
/// </param>
public sealed record FusionSettings(
    HybridFusion Fusion = HybridFusion.Convex,
    double VectorWeight = 0.15,
    int RrfK = ReciprocalRankFusion.DefaultK,
    double VectorFloor = FusionSettings.DefaultVectorFloor)
{
    /// <summary>
    /// The floor for the offline hashing embedder (the default one): its cosines between texts that share no word stay
    /// below it, and a shared rare word lifts a related chunk above it (bench/README.md, "Relevance floor").
    /// </summary>
    public const double DefaultVectorFloor = 0.25;

    /// <summary>
    /// The floor that suits an embedder (Search:Embedder): each model spreads unrelated texts over its own range of
    /// cosines (averaged word vectors sit high, hashed words near zero), so one number cannot serve all.
    /// </summary>
    public static double DefaultVectorFloorFor(string? embedder) => embedder?.Trim().ToLowerInvariant() switch
    {
        "glove" => GloveVectorFloor,
        ArcticEmbedder.ProviderName => ArcticVectorFloor,
        "openai" => OpenAiVectorFloor,
        _ => DefaultVectorFloor,
    };

    /// <summary>
    /// The floor for the arctic sentence model. Its cosines are compressed: a short question scores 0.35-0.53 against
    /// stories on other topics and 0.58-0.59 against a story it asks about in other words. On SciFact a floor of 0.6 ranks
    /// a little better (hybrid nDCG@10 0.7273 against 0.7194 at 0.55, lexical 0.6897), but would drop those paraphrases;
    /// 0.55 keeps them and still drops other topics (bench/README.md, "arctic").
    /// </summary>
    public const double ArcticVectorFloor = 0.55;

    /// <summary>
    /// The vector weight that suits an embedder: the offline ones (hashing, GloVe) know little beyond shared words and
    /// get 0.15; the arctic sentence model ranks nearly as well as BM25 on its own (SciFact vector nDCG@10 0.649 against
    /// 0.690) and gets 0.5, chosen on half of SciFact's queries and checked on the other half.
    /// </summary>
    public static double DefaultVectorWeightFor(string? embedder) => embedder?.Trim().ToLowerInvariant() switch
    {
        ArcticEmbedder.ProviderName => ArcticVectorWeight,
        _ => Default.VectorWeight,
    };

    /// <summary>The vector weight for the arctic sentence model (<see cref="DefaultVectorWeightFor"/>).</summary>
    public const double ArcticVectorWeight = 0.5;

    /// <summary>The floor for the GloVe embedder (SIF-weighted, common component removed).</summary>
    public const double GloveVectorFloor = 0.5;

    /// <summary>
    /// The floor for OpenAI-compatible embedding models; text-embedding-3 puts unrelated English texts around 0.1-0.2.
    /// Not measured here (no such model is reachable); set Search:VectorFloor after running <c>finnews eval retrieval</c>.
    /// </summary>
    public const double OpenAiVectorFloor = 0.3;

    /// <summary>What the scifact evaluation supports (bench/README.md): convex, vector weight 0.15, k = 60.</summary>
    public static FusionSettings Default { get; } = new();

    /// <summary>Weight of the lexical ranking in weighted RRF, <c>2(1-w)</c> (1 for plain RRF).</summary>
    public double LexicalRrfWeight => 2 * (1 - VectorWeight);

    /// <summary>Weight of the vector ranking in weighted RRF, <c>2w</c> (1 for plain RRF).</summary>
    public double VectorRrfWeight => 2 * VectorWeight;

    /// <summary>The fusion and its weights in words, for <c>finnews search --explain</c>.</summary>
    public string Describe() => (Fusion == HybridFusion.ReciprocalRank
        ? string.Create(CultureInfo.InvariantCulture,
            $"weighted reciprocal rank (k = {RrfK}; weight lexical {LexicalRrfWeight:0.###}, vector {VectorRrfWeight:0.###})")
        : string.Create(CultureInfo.InvariantCulture,
            $"convex mix of min-max normalized scores (lexical {1 - VectorWeight:0.###}, vector {VectorWeight:0.###})"))
        + (VectorFloor > 0 ? string.Create(CultureInfo.InvariantCulture, $"; vector-only hits need cosine ≥ {VectorFloor:0.###}") : string.Empty);

    /// <summary>Every problem with these settings, naming the key under <paramref name="section"/>; empty when valid.</summary>
    public IReadOnlyList<string> Problems(string section)
    {
        var problems = new List<string>();
        if (!(VectorWeight >= 0 && VectorWeight <= 1))
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"{section}:VectorWeight = {VectorWeight}: must be between 0 and 1."));
        }

        if (RrfK <= 0)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"{section}:RrfK = {RrfK}: must be positive."));
        }

        if (!(VectorFloor >= 0 && VectorFloor < 1))
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"{section}:VectorFloor = {VectorFloor}: must be at least 0 and below 1 (a cosine similarity)."));
        }

        if (!Enum.IsDefined(Fusion))
        {
            problems.Add($"{section}:Fusion = {Fusion}: use convex or rrf.");
        }

        return problems;
    }

    /// <summary>Parses the configuration spelling: <c>convex</c> or <c>rrf</c>.</summary>
    public static bool TryParseFusion(string? text, out HybridFusion fusion)
    {
        switch (text?.Trim().ToLowerInvariant())
        {
            case "convex":
                fusion = HybridFusion.Convex;
                return true;
            case "rrf":
                fusion = HybridFusion.ReciprocalRank;
                return true;
            default:
                fusion = default;
                return false;
        }
    }
}

/// <summary>
/// The ranking steps every backend shares: fusing the lexical and vector candidate lists, and keeping each article's
/// best chunk. <see cref="SqliteSearchIndex"/> and the client-side path of the Elasticsearch index both call these, so
/// given the same candidates they return the same order.
/// </summary>
public static class HybridRanking
{
    /// <summary>
    /// Fuses two rankings (each best first) as configured; ties keep first-seen order, lexical list first. Vector
    /// candidates below <see cref="FusionSettings.VectorFloor"/> are no candidates: a chunk only they found is dropped,
    /// one the lexical ranking found keeps its lexical part. Elasticsearch's knn <c>similarity</c> does the same on the
    /// server, so every path fuses the same candidates.
    /// </summary>
    public static List<RankedChunk> Fuse(IReadOnlyList<RankedChunk> lexical, IReadOnlyList<RankedChunk> vector, FusionSettings settings)
    {
        ArgumentNullException.ThrowIfNull(lexical);
        ArgumentNullException.ThrowIfNull(vector);
        ArgumentNullException.ThrowIfNull(settings);
        return FuseAll(lexical, AboveFloor(vector, settings), settings);
    }

    /// <summary>The vector hits (cosine scores, best first) that clear <see cref="FusionSettings.VectorFloor"/>.</summary>
    public static List<RankedChunk> AboveFloor(IEnumerable<RankedChunk> vector, FusionSettings settings)
    {
        ArgumentNullException.ThrowIfNull(vector);
        ArgumentNullException.ThrowIfNull(settings);
        return vector.Where(h => h.Score >= settings.VectorFloor).ToList();
    }

    private static List<RankedChunk> FuseAll(IReadOnlyList<RankedChunk> lexical, IReadOnlyList<RankedChunk> vector, FusionSettings settings)
    {
        var byChunk = new Dictionary<string, RankedChunk>(StringComparer.Ordinal);
        foreach (var hit in lexical.Concat(vector))
        {
            byChunk.TryAdd(hit.ChunkId, hit);
        }

        if (settings.Fusion == HybridFusion.ReciprocalRank)
        {
            return ReciprocalRankFusion
                .Fuse([(Ids(lexical), settings.LexicalRrfWeight), (Ids(vector), settings.VectorRrfWeight)], settings.RrfK)
                .Select(f => byChunk[f.Id] with { Score = f.Score })
                .ToList();
        }

        // Convex: min-max normalize each list to [0, 1] (a chunk missing from a list scores 0 there), then mix.
        var w = settings.VectorWeight;
        var scores = new Dictionary<string, double>(StringComparer.Ordinal);
        Add(lexical, 1 - w);
        Add(vector, w);
        var order = byChunk.Keys.Select((id, i) => (Id: id, First: i)).ToDictionary(x => x.Id, x => x.First, StringComparer.Ordinal);
        return scores
            .OrderByDescending(p => p.Value)
            .ThenBy(p => order[p.Key])
            .Select(p => byChunk[p.Key] with { Score = p.Value })
            .ToList();

        void Add(IReadOnlyList<RankedChunk> list, double weight)
        {
            if (list.Count == 0 || weight == 0)
            {
                return;
            }

            var max = list.Max(h => h.Score);
            var min = list.Min(h => h.Score);
            var span = max - min;
            foreach (var hit in list)
            {
                var normalized = span > 0 ? (hit.Score - min) / span : 1.0;
                scores[hit.ChunkId] = scores.GetValueOrDefault(hit.ChunkId) + (weight * normalized);
            }
        }

        static List<string> Ids(IReadOnlyList<RankedChunk> list) => list.Select(h => h.ChunkId).ToList();
    }

    /// <summary>The first (best) chunk of each article, in order, up to <paramref name="limit"/> articles.</summary>
    public static List<RankedChunk> BestPerArticle(IEnumerable<RankedChunk> ranked, int limit)
    {
        ArgumentNullException.ThrowIfNull(ranked);
        var best = new List<RankedChunk>(Math.Min(limit, 128));
        var articles = new HashSet<string>(StringComparer.Ordinal);
        foreach (var hit in ranked)
        {
            if (best.Count == limit)
            {
                break;
            }

            if (articles.Add(hit.ArticleId))
            {
                best.Add(hit);
            }
        }

        return best;
    }

    /// <summary>Candidates fetched per ranking: deeper than the limit, since several chunks may share an article and fusion needs overlap.</summary>
    public static int CandidateDepth(int limit) => Math.Min(Math.Max(limit * 5, 50), 10_000);
}
