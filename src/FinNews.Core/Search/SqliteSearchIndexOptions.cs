namespace FinNews.Core.Search;

/// <summary>How <see cref="SearchMode.Hybrid"/> combines the lexical and the vector ranking.</summary>
public enum HybridFusion
{
    /// <summary>Weighted reciprocal rank fusion: <c>2(1-w)/(k+rank_lex) + 2w/(k+rank_vec)</c>; w = 0.5 is plain RRF.</summary>
    ReciprocalRank,

    /// <summary>Convex combination of min-max normalized scores: <c>(1-w)·bm25' + w·cos'</c> over each candidate list.</summary>
    Convex,
}

/// <summary>Tuning knobs of <see cref="SqliteSearchIndex"/>; the defaults are what the scifact evaluation supports.</summary>
public sealed record SqliteSearchIndexOptions
{
    /// <summary>The defaults.</summary>
    public static SqliteSearchIndexOptions Default { get; } = new();

    /// <summary>The defaults with the vector weight and floor that suit <paramref name="embedder"/> (Search:Embedder).</summary>
    public static SqliteSearchIndexOptions DefaultsFor(string? embedder) => Default with
    {
        VectorWeight = FusionSettings.DefaultVectorWeightFor(embedder),
        VectorFloor = FusionSettings.DefaultVectorFloorFor(embedder),
    };

    /// <summary>
    /// How hybrid search fuses its two rankings. Convex, because on BEIR SciFact plain RRF with the offline embedders
    /// (hashing, GloVe: vector nDCG@10 0.25-0.29 against BM25's 0.69) drags hybrid far below lexical (0.49 / 0.40),
    /// while a lexical-heavy convex mix keeps it at or above lexical (see bench/README.md).
    /// </summary>
    public HybridFusion Fusion { get; init; } = HybridFusion.Convex;

    /// <summary>
    /// Weight of the vector side in hybrid fusion, 0 (lexical only) to 1 (vector only). For RRF 0.5 is the classic
    /// unweighted fusion; the default 0.15 suits the weak offline embedders. A strong embedder (OpenAI-compatible)
    /// deserves more, measured with the evaluator.
    /// </summary>
    public double VectorWeight { get; init; } = 0.15;

    /// <summary>The RRF smoothing constant.</summary>
    public int RrfK { get; init; } = ReciprocalRankFusion.DefaultK;

    /// <summary>The relevance floor for vector hits (<see cref="Search.FusionSettings.VectorFloor"/>).</summary>
    public double VectorFloor { get; init; } = FusionSettings.DefaultVectorFloor;

    /// <summary>Fusion, vector weight, k and floor as the shared <see cref="Search.FusionSettings"/> (the Elasticsearch index takes the same).</summary>
    public FusionSettings FusionSettings => new(Fusion, VectorWeight, RrfK, VectorFloor);

    /// <summary>
    /// When set, every score is multiplied by <c>0.5^(age / half-life)</c>, age measured from <see cref="TimeProvider"/>'s
    /// now to the article's publication (future dates count as age zero), and results are re-sorted.
    /// </summary>
    public TimeSpan? RecencyHalfLife { get; init; }

    /// <summary>The clock recency decay measures age against; required when <see cref="RecencyHalfLife"/> is set.</summary>
    public TimeProvider? TimeProvider { get; init; }

    internal void Validate()
    {
        if (!(VectorWeight >= 0 && VectorWeight <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(VectorWeight), VectorWeight, "must be between 0 and 1");
        }

        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(RrfK, 0, nameof(RrfK));
        if (!(VectorFloor >= 0 && VectorFloor < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(VectorFloor), VectorFloor, "must be at least 0 and below 1 (a cosine similarity)");
        }

        if (RecencyHalfLife is { } halfLife && halfLife <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(RecencyHalfLife), halfLife, "must be positive");
        }

        if (RecencyHalfLife is not null && TimeProvider is null)
        {
            throw new ArgumentException("RecencyHalfLife needs a TimeProvider to measure age against", nameof(TimeProvider));
        }
    }
}
