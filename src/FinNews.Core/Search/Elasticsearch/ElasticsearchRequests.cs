using System.Globalization;
using System.Text.Json.Nodes;

namespace FinNews.Core.Search.Elasticsearch;

/// <summary>
/// Request bodies. The query DSL is a tree of single-key objects whose shape depends on the clause, so bodies are built
/// as <see cref="JsonNode"/> trees (no reflection) rather than as a typed model of the whole DSL; the tests validate
/// every body against the official OpenAPI schema instead.
/// </summary>
internal static class ElasticsearchRequests
{
    /// <summary>Bumped when the mapping changes shape; recorded in <c>_meta</c>.</summary>
    public const int SchemaVersion = 1;

    /// <summary>The key under <c>_meta</c> holding this application's record (the spec types _meta values as objects).</summary>
    public const string MetaKey = "finnews";

    public const string VectorField = "vector";

    /// <summary>The mappings of every monthly index.</summary>
    public static JsonObject Mappings(ElasticsearchOptions options, int dimensions, string embedderName)
    {
        var indexOptions = new JsonObject { ["type"] = options.VectorIndexType };
        if (options.HnswM is { } m)
        {
            indexOptions["m"] = m;
        }

        if (options.HnswEfConstruction is { } ef)
        {
            indexOptions["ef_construction"] = ef;
        }

        return new JsonObject
        {
            // Strict: a document with a field this client did not declare is a bug, and should fail loudly as a 400 item.
            ["dynamic"] = "strict",
            ["_meta"] = new JsonObject
            {
                [MetaKey] = new JsonObject
                {
                    ["embedder"] = embedderName,
                    ["dimensions"] = dimensions,
                    ["schema_version"] = SchemaVersion,
                },
            },
            ["properties"] = new JsonObject
            {
                ["chunk_id"] = new JsonObject { ["type"] = "keyword" },
                ["article_id"] = new JsonObject { ["type"] = "keyword" },
                ["feed_id"] = new JsonObject { ["type"] = "keyword" },
                ["tickers"] = new JsonObject { ["type"] = "keyword" },
                ["n"] = new JsonObject { ["type"] = "integer" },
                ["published_at"] = new JsonObject { ["type"] = "date" },
                ["title"] = new JsonObject { ["type"] = "text", ["analyzer"] = "english" },
                ["text"] = new JsonObject { ["type"] = "text", ["analyzer"] = "english" },
                [VectorField] = new JsonObject
                {
                    ["type"] = "dense_vector",
                    ["dims"] = dimensions,
                    ["index"] = true,
                    ["similarity"] = "cosine",
                    ["index_options"] = indexOptions,
                },
            },
        };
    }

    public static JsonObject Settings(ElasticsearchOptions options) => new()
    {
        ["number_of_shards"] = options.NumberOfShards,
        ["number_of_replicas"] = options.NumberOfReplicas,
    };

    /// <summary><c>PUT _index_template/{prefix}</c>: every <c>{prefix}-*</c> index gets the mappings and the alias.</summary>
    public static JsonObject IndexTemplate(ElasticsearchOptions options, int dimensions, string embedderName) => new()
    {
        ["index_patterns"] = new JsonArray(options.IndexPrefix + "-*"),
        // Above the default 0 so a catch-all template on the cluster cannot shadow this one.
        ["priority"] = 200,
        ["template"] = new JsonObject
        {
            ["settings"] = Settings(options),
            ["mappings"] = Mappings(options, dimensions, embedderName),
            ["aliases"] = new JsonObject { [options.EffectiveAlias] = new JsonObject() },
        },
        ["_meta"] = new JsonObject { ["description"] = "FinNews article chunks (managed by the application)" },
    };

    /// <summary><c>PUT /{index}</c>: the same definition as the template, so it holds even where templates are not allowed.</summary>
    public static JsonObject CreateIndex(ElasticsearchOptions options, int dimensions, string embedderName) => new()
    {
        ["settings"] = Settings(options),
        ["mappings"] = Mappings(options, dimensions, embedderName),
        ["aliases"] = new JsonObject { [options.EffectiveAlias] = new JsonObject() },
    };

    /// <summary>The monthly index of an article, by its UTC publication month.</summary>
    public static string MonthlyIndex(string prefix, DateTimeOffset publishedAt) =>
        string.Create(CultureInfo.InvariantCulture, $"{prefix}-{publishedAt.UtcDateTime:yyyy.MM}");

    /// <summary>ISO-8601 UTC with milliseconds: what the <c>date</c> field's default format parses, and a valid DateMath.</summary>
    public static string Date(DateTimeOffset value) =>
        value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    /// <summary>
    /// The query's filters as filter clauses; the same list goes into every query, knn and retriever so lexical and
    /// vector results are drawn from the same documents. Since is inclusive, Until exclusive (as in SQLite).
    /// </summary>
    public static JsonArray Filters(SearchQuery query, IReadOnlyList<string>? tickers)
    {
        var filters = new JsonArray();
        if (query.Since is not null || query.Until is not null)
        {
            var range = new JsonObject();
            if (query.Since is { } since)
            {
                range["gte"] = Date(since);
            }

            if (query.Until is { } until)
            {
                range["lt"] = Date(until);
            }

            filters.Add(new JsonObject { ["range"] = new JsonObject { ["published_at"] = range } });
        }

        if (tickers is { Count: > 0 })
        {
            filters.Add(new JsonObject { ["terms"] = new JsonObject { ["tickers"] = Strings(tickers) } });
        }

        if (query.Sources is { Count: > 0 } sources)
        {
            filters.Add(new JsonObject { ["terms"] = new JsonObject { ["feed_id"] = Strings(sources) } });
        }

        return filters;
    }

    /// <summary>BM25 over chunk text and title, under the filters.</summary>
    public static JsonObject LexicalQuery(string text, JsonArray filters) => new()
    {
        ["bool"] = new JsonObject
        {
            ["must"] = new JsonArray(new JsonObject
            {
                ["multi_match"] = new JsonObject
                {
                    ["query"] = text,
                    // The text carries the evidence; the title (repeated on every chunk) only nudges.
                    ["fields"] = new JsonArray("text", "title^0.5"),
                    ["type"] = "best_fields",
                },
            }),
            ["filter"] = filters.DeepClone(),
        },
    };

    /// <summary>A kNN clause (top-level <c>knn</c> of the search API).</summary>
    public static JsonObject Knn(float[] vector, int k, int numCandidates, JsonArray filters)
    {
        var knn = new JsonObject
        {
            ["field"] = VectorField,
            ["query_vector"] = Vector(vector),
            ["k"] = k,
            ["num_candidates"] = numCandidates,
        };
        if (filters.Count > 0)
        {
            knn["filter"] = filters.DeepClone();
        }

        return knn;
    }

    /// <summary>The fields a hit needs; the vector is large and never read back.</summary>
    private static JsonObject Source() => new() { ["includes"] = new JsonArray("article_id", "chunk_id", "text") };

    public static JsonObject LexicalSearch(string text, JsonArray filters, int size) => new()
    {
        ["size"] = size,
        ["query"] = LexicalQuery(text, filters),
        ["_source"] = Source(),
        ["track_total_hits"] = false,
    };

    public static JsonObject KnnSearch(float[] vector, JsonArray filters, int size, int numCandidates) => new()
    {
        ["size"] = size,
        ["knn"] = Knn(vector, size, numCandidates, filters),
        ["_source"] = Source(),
        ["track_total_hits"] = false,
    };

    /// <summary>
    /// Server-side hybrid (8.16+): an <c>rrf</c> retriever over a <c>standard</c> (BM25) and a <c>knn</c> retriever, each
    /// with the same filters. <c>collapse</c> cannot be combined with rrf, so one-hit-per-article happens in the client.
    /// </summary>
    public static JsonObject RrfSearch(string text, float[] vector, JsonArray filters, int size, int numCandidates) => new()
    {
        ["size"] = size,
        ["retriever"] = new JsonObject
        {
            ["rrf"] = new JsonObject
            {
                ["retrievers"] = new JsonArray(
                    new JsonObject { ["standard"] = new JsonObject { ["query"] = LexicalQuery(text, filters) } },
                    new JsonObject { ["knn"] = Knn(vector, size, numCandidates, filters) }),
                ["rank_window_size"] = size,
                ["rank_constant"] = ReciprocalRankFusion.DefaultK,
            },
        },
        ["_source"] = Source(),
        ["track_total_hits"] = false,
    };

    /// <summary>Every chunk of these articles, in whichever monthly index it lives.</summary>
    public static JsonObject DeleteArticles(IEnumerable<string> articleIds) => new()
    {
        ["query"] = new JsonObject
        {
            ["bool"] = new JsonObject
            {
                ["filter"] = new JsonArray(new JsonObject { ["terms"] = new JsonObject { ["article_id"] = Strings(articleIds) } }),
            },
        },
    };

    public static JsonObject MatchAll() => new() { ["query"] = new JsonObject { ["match_all"] = new JsonObject() } };

    private static JsonArray Strings(IEnumerable<string> values) => new([.. values.Select(v => (JsonNode?)JsonValue.Create(v))]);

    private static JsonArray Vector(float[] vector) => new([.. vector.Select(v => (JsonNode?)JsonValue.Create(v))]);
}
