using System.Globalization;
using System.Text.Json.Serialization;
using Elastic.Clients.Elasticsearch;
using Elastic.Clients.Elasticsearch.Analysis;
using Elastic.Clients.Elasticsearch.Core.MSearch;
using Elastic.Clients.Elasticsearch.Core.Search;
using Elastic.Clients.Elasticsearch.IndexManagement;
using Elastic.Clients.Elasticsearch.Mapping;
using Elastic.Clients.Elasticsearch.QueryDsl;

namespace FinNews.Core.Search.Elasticsearch;

/// <summary>One chunk as stored in Elasticsearch (the <c>_source</c> of a document whose <c>_id</c> is the chunk id).</summary>
internal sealed record ChunkDocument(
    [property: JsonPropertyName("chunk_id")] string ChunkId,
    [property: JsonPropertyName("article_id")] string ArticleId,
    [property: JsonPropertyName("n")] int N,
    [property: JsonPropertyName("feed_id")] string FeedId,
    [property: JsonPropertyName("tickers")] IReadOnlyList<string> Tickers,
    [property: JsonPropertyName("published_at")] string PublishedAt,
    [property: JsonPropertyName("title")] string Title,
    [property: JsonPropertyName("text")] string Text,
    [property: JsonPropertyName("vector"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] float[]? Vector);

/// <summary>The fields a search hit reads back (never the vector).</summary>
internal sealed record ChunkHit(
    [property: JsonPropertyName("chunk_id")] string? ChunkId,
    [property: JsonPropertyName("article_id")] string? ArticleId,
    [property: JsonPropertyName("published_at")] string? PublishedAt,
    [property: JsonPropertyName("text")] string? Text);

/// <summary>
/// Index layout and request bodies, as the client's typed requests. The lexical query, the kNN clause and the filters
/// are built once here and used unchanged by the client-side path (<c>_msearch</c>) and by the <c>rrf</c> and
/// <c>linear</c> retrievers, so every path draws from the same documents.
/// </summary>
internal static class ElasticsearchQueries
{
    /// <summary>Bumped when the mapping changes shape; recorded in <c>_meta</c>.</summary>
    public const int SchemaVersion = 2;

    /// <summary>The key under <c>_meta</c> holding this application's record (the spec types _meta values as objects).</summary>
    public const string MetaKey = "finnews";

    public const string VectorField = "vector";

    /// <summary>The analyzer of title and text: Elasticsearch's english analyzer plus ASCII folding.</summary>
    public const string Analyzer = "finnews_english";

    /// <summary>The fields a hit needs; the vector is large and never read back.</summary>
    private static readonly string[] SourceFields = ["article_id", "chunk_id", "published_at", "text"];

    /// <summary>The mappings of every monthly index.</summary>
    public static TypeMapping Mappings(ElasticsearchOptions options, int dimensions, string embedderName)
    {
        var indexOptions = new DenseVectorIndexOptions(IndexType(options.VectorIndexType));
        if (options.HnswM is { } m)
        {
            indexOptions.M = m;
        }

        if (options.HnswEfConstruction is { } ef)
        {
            indexOptions.EfConstruction = ef;
        }

        return new TypeMapping
        {
            // Strict: a document with a field this client did not declare is a bug, and should fail loudly as a 400 item.
            Dynamic = DynamicMapping.Strict,
            Meta = new Dictionary<string, object>(StringComparer.Ordinal)
            {
                [MetaKey] = new Dictionary<string, object>(StringComparer.Ordinal)
                {
                    ["embedder"] = embedderName,
                    ["dimensions"] = dimensions,
                    ["schema_version"] = SchemaVersion,
                },
            },
            Properties = new Properties
            {
                { "chunk_id", new KeywordProperty() },
                { "article_id", new KeywordProperty() },
                { "feed_id", new KeywordProperty() },
                { "tickers", new KeywordProperty() },
                { "n", new IntegerNumberProperty() },
                { "published_at", new DateProperty() },
                { "title", new TextProperty { Analyzer = Analyzer } },
                { "text", new TextProperty { Analyzer = Analyzer } },
                {
                    VectorField, new DenseVectorProperty
                    {
                        Dims = dimensions,
                        Index = true,
                        Similarity = DenseVectorSimilarity.Cosine,
                        IndexOptions = indexOptions,
                    }
                },
            },
        };
    }

    /// <summary>
    /// Shards and replicas (stack only: Serverless manages them and refuses the settings) and the analyzer. The analyzer
    /// is the built-in <c>english</c> analyzer rebuilt as a custom one (possessives, lower case, English stop words,
    /// Porter stemming) with ASCII folding added, to match the embedded index's <c>porter unicode61 remove_diacritics 2</c>.
    /// </summary>
    public static IndexSettings Settings(ElasticsearchOptions options, bool serverless)
    {
        var settings = new IndexSettings
        {
            Analysis = new IndexSettingsAnalysis
            {
                TokenFilters = new TokenFilters
                {
                    { "finnews_possessive", new StemmerTokenFilter { Language = "possessive_english" } },
                    { "finnews_stop", new StopTokenFilter { Stopwords = StopWordLanguage.English } },
                    { "finnews_stemmer", new StemmerTokenFilter { Language = "english" } },
                },
                Analyzers = new Analyzers
                {
                    {
                        Analyzer, new CustomAnalyzer
                        {
                            Tokenizer = "standard",
                            Filter = ["finnews_possessive", "lowercase", "asciifolding", "finnews_stop", "finnews_stemmer"],
                        }
                    },
                },
            },
        };
        if (!serverless)
        {
            settings.NumberOfShards = options.NumberOfShards;
            settings.NumberOfReplicas = options.NumberOfReplicas;
        }

        return settings;
    }

    /// <summary><c>PUT _index_template/{prefix}</c>: every <c>{prefix}-*</c> index gets the settings, mappings and the alias.</summary>
    public static PutIndexTemplateRequest IndexTemplate(ElasticsearchOptions options, int dimensions, string embedderName, bool serverless) =>
        new(options.IndexPrefix)
        {
            IndexPatterns = options.IndexPrefix + "-*",
            // Above the default 0 so a catch-all template on the cluster cannot shadow this one.
            Priority = 200,
            Template = new IndexTemplateMapping
            {
                Settings = Settings(options, serverless),
                Mappings = Mappings(options, dimensions, embedderName),
                Aliases = new Dictionary<IndexName, Alias> { [options.EffectiveAlias] = new Alias() },
            },
            Meta = new Dictionary<string, object>(StringComparer.Ordinal) { ["description"] = "FinNews article chunks (managed by the application)" },
        };

    /// <summary><c>PUT /{index}</c>: the same definition as the template, so it holds even where templates are not allowed.</summary>
    public static CreateIndexRequest CreateIndex(string index, ElasticsearchOptions options, int dimensions, string embedderName, bool serverless) =>
        new(index)
        {
            Settings = Settings(options, serverless),
            Mappings = Mappings(options, dimensions, embedderName),
            Aliases = new Dictionary<Name, Alias> { [options.EffectiveAlias] = new Alias() },
        };

    /// <summary>The monthly index of an article, by its UTC publication month.</summary>
    public static string MonthlyIndex(string prefix, DateTimeOffset publishedAt) =>
        string.Create(CultureInfo.InvariantCulture, $"{prefix}-{publishedAt.UtcDateTime:yyyy.MM}");

    /// <summary>The first instant after the month of a monthly index name, or null when the name is not one.</summary>
    public static DateTimeOffset? MonthEnd(string prefix, string index)
    {
        if (!index.StartsWith(prefix + "-", StringComparison.Ordinal)
            || !DateTime.TryParseExact(index[(prefix.Length + 1)..], "yyyy.MM", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var month))
        {
            return null;
        }

        return new DateTimeOffset(month, TimeSpan.Zero).AddMonths(1);
    }

    /// <summary>ISO-8601 UTC with milliseconds: what the <c>date</c> field's default format parses, and a valid DateMath.</summary>
    public static string Date(DateTimeOffset value) =>
        value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    /// <summary>
    /// The query's filters; the same list goes into the lexical query and the kNN clause of every path. Since is
    /// inclusive, Until exclusive (as in SQLite).
    /// </summary>
    public static List<Query> Filters(SearchQuery query, IReadOnlyList<string>? tickers)
    {
        var filters = new List<Query>();
        if (query.Since is not null || query.Until is not null)
        {
            var range = new DateRangeQuery("published_at");
            if (query.Since is { } since)
            {
                range.Gte = Date(since);
            }

            if (query.Until is { } until)
            {
                range.Lt = Date(until);
            }

            filters.Add(range);
        }

        if (tickers is { Count: > 0 })
        {
            filters.Add(Terms("tickers", tickers));
        }

        if (query.Sources is { Count: > 0 } sources)
        {
            filters.Add(Terms("feed_id", sources));
        }

        return filters;
    }

    /// <summary>BM25 over chunk text and title, under the filters.</summary>
    public static Query LexicalQuery(string text, List<Query> filters) => new BoolQuery
    {
        Must =
        [
            new MultiMatchQuery(text)
            {
                // The text carries the evidence; the title (repeated on every chunk) only nudges.
                Fields = new[] { "text", "title^0.5" },
                Type = TextQueryType.BestFields,
            },
        ],
        Filter = [.. filters],
    };

    /// <summary>
    /// kNN over the chunk vectors, under the filters; <c>num_candidates</c> at least <c>k</c>; with a positive
    /// <paramref name="floor"/>, only vectors whose cosine similarity reaches it (<c>similarity</c> is the raw cosine,
    /// not the (1 + cos) / 2 score), as <see cref="HybridRanking.Fuse"/> keeps them.
    /// </summary>
    public static KnnSearch Knn(float[] vector, int k, List<Query> filters, double floor) => new(VectorField)
    {
        QueryVector = vector,
        K = k,
        NumCandidates = Candidates(k),
        Filter = filters.Count > 0 ? [.. filters] : null,
        Similarity = floor > 0 ? (float)floor : null,
    };

    public static KnnRetriever KnnRetriever(float[] vector, int k, List<Query> filters, double floor) => new(VectorField, k)
    {
        QueryVector = vector,
        NumCandidates = Candidates(k),
        Filter = filters.Count > 0 ? [.. filters] : null,
        Similarity = floor > 0 ? (float)floor : null,
    };

    /// <summary>A standard (lexical) search of <paramref name="size"/> hits: one half of the client-side path.</summary>
    public static MultisearchBody LexicalBody(string text, List<Query> filters, int size) => new()
    {
        Size = size,
        Query = LexicalQuery(text, filters),
        Source = Source(),
        TrackTotalHits = false,
    };

    /// <summary>A kNN search of <paramref name="size"/> hits: the other half of the client-side path.</summary>
    public static MultisearchBody KnnBody(float[] vector, List<Query> filters, int size, double floor) => new()
    {
        Size = size,
        Knn = [Knn(vector, size, filters, floor)],
        Source = Source(),
        TrackTotalHits = false,
    };

    /// <summary>The two searches of client-side hybrid in one <c>_msearch</c> (lexical first, as the fusion expects).</summary>
    public static MultiSearchRequest Hybrid(string alias, string text, float[] vector, List<Query> filters, int size, double floor) =>
        new(alias, new List<SearchRequestItem>
        {
            new(new MultisearchHeader(), LexicalBody(text, filters, size)),
            new(new MultisearchHeader(), KnnBody(vector, filters, size, floor)),
        });

    public static SearchRequest Lexical(string alias, string text, List<Query> filters, int size) => new(alias)
    {
        Size = size,
        Query = LexicalQuery(text, filters),
        Source = Source(),
        TrackTotalHits = false,
    };

    public static SearchRequest Vector(string alias, float[] vector, List<Query> filters, int size, double floor) => new(alias)
    {
        Size = size,
        Knn = [Knn(vector, size, filters, floor)],
        Source = Source(),
        TrackTotalHits = false,
    };

    /// <summary>
    /// Server-side weighted RRF: <c>weight/(rank_constant + rank)</c> summed over a standard and a knn retriever, with the
    /// embedded index's k and weights (<c>2(1-w)</c>, <c>2w</c>). Unweighted entries when both weights are 1, which
    /// servers before per-retriever weights also accept. <c>collapse</c> cannot be combined with rrf, so
    /// one-hit-per-article happens in the client.
    /// </summary>
    public static SearchRequest Rrf(string alias, string text, float[] vector, List<Query> filters, int size, FusionSettings fusion)
    {
        Retriever standard = new StandardRetriever { Query = LexicalQuery(text, filters) };
        Retriever knn = KnnRetriever(vector, size, filters, fusion.VectorFloor);
        var weighted = Math.Abs(fusion.LexicalRrfWeight - 1) > 1e-12;
        return new SearchRequest(alias)
        {
            Size = size,
            Retriever = new RRFRetriever
            {
                Retrievers = weighted
                    ? [new RRFRetrieverComponent(standard) { Weight = (float)fusion.LexicalRrfWeight }, new RRFRetrieverComponent(knn) { Weight = (float)fusion.VectorRrfWeight }]
                    : [new RRFRetrieverComponent(standard), new RRFRetrieverComponent(knn)],
                RankWindowSize = size,
                RankConstant = fusion.RrfK,
            },
            Source = Source(),
            TrackTotalHits = false,
        };
    }

    /// <summary>
    /// Server-side convex mix: the <c>linear</c> retriever, each side min-max normalized and weighted <c>1-w</c> and
    /// <c>w</c>, as <see cref="HybridRanking.Fuse"/> does with <see cref="HybridFusion.Convex"/>.
    /// </summary>
    public static SearchRequest Linear(string alias, string text, float[] vector, List<Query> filters, int size, FusionSettings fusion) => new(alias)
    {
        Size = size,
        Retriever = new LinearRetriever
        {
            Retrievers =
            [
                new InnerRetriever(new StandardRetriever { Query = LexicalQuery(text, filters) })
                {
                    Weight = (float)(1 - fusion.VectorWeight),
                    Normalizer = ScoreNormalizer.Minmax,
                },
                new InnerRetriever(KnnRetriever(vector, size, filters, fusion.VectorFloor))
                {
                    Weight = (float)fusion.VectorWeight,
                    Normalizer = ScoreNormalizer.Minmax,
                },
            ],
            RankWindowSize = size,
        },
        Source = Source(),
        TrackTotalHits = false,
    };

    /// <summary>Every chunk of these articles except <paramref name="keep"/>, in whichever monthly index it lives.</summary>
    public static Query StaleChunks(IEnumerable<string> articleIds, IEnumerable<string> keep)
    {
        var query = new BoolQuery { Filter = [Terms("article_id", articleIds)] };
        var kept = keep.ToList();
        if (kept.Count > 0)
        {
            query.MustNot = [Terms("chunk_id", kept)];
        }

        return query;
    }

    /// <summary><c>num_candidates</c> per shard: twice k (at least 100), at most 10,000 (the server's limit).</summary>
    public static int Candidates(int k) => Math.Min(Math.Max(k * 2, 100), 10_000);

    private static TermsQuery Terms(string field, IEnumerable<string> values) =>
        new(field, new TermsQueryField(values.Select(FieldValue.String).ToArray()));

    private static SourceConfig Source() => new SourceFilter { Includes = SourceFields };

    private static DenseVectorIndexOptionsType IndexType(string name) => name switch
    {
        "hnsw" => DenseVectorIndexOptionsType.Hnsw,
        "int4_hnsw" => DenseVectorIndexOptionsType.Int4Hnsw,
        "bbq_hnsw" => DenseVectorIndexOptionsType.BbqHnsw,
        "flat" => DenseVectorIndexOptionsType.Flat,
        "int8_flat" => DenseVectorIndexOptionsType.Int8Flat,
        "int4_flat" => DenseVectorIndexOptionsType.Int4Flat,
        "bbq_flat" => DenseVectorIndexOptionsType.BbqFlat,
        _ => DenseVectorIndexOptionsType.Int8Hnsw,
    };
}
