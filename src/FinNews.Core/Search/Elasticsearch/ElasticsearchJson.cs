using System.Text.Json;
using System.Text.Json.Serialization;

namespace FinNews.Core.Search.Elasticsearch;

// Response shapes follow the 8.17 OpenAPI spec (../shared/corpora/elasticsearch-api); only the fields this client reads
// are declared, so unknown fields added by newer servers are ignored rather than fatal.

/// <summary><c>GET /</c>.</summary>
internal sealed record RootResponse(
    [property: JsonPropertyName("cluster_name")] string? ClusterName,
    [property: JsonPropertyName("version")] RootVersion? Version);

/// <summary>The <c>version</c> object of <c>GET /</c>.</summary>
internal sealed record RootVersion(
    [property: JsonPropertyName("number")] string? Number,
    [property: JsonPropertyName("build_flavor")] string? BuildFlavor,
    [property: JsonPropertyName("distribution")] string? Distribution);

/// <summary><c>GET _cluster/health</c> (cluster.health:HealthResponseBody).</summary>
internal sealed record ClusterHealthResponse(
    [property: JsonPropertyName("cluster_name")] string? ClusterName,
    [property: JsonPropertyName("status")] string? Status,
    [property: JsonPropertyName("number_of_nodes")] int? NumberOfNodes,
    [property: JsonPropertyName("unassigned_shards")] int? UnassignedShards,
    [property: JsonPropertyName("active_shards_percent_as_number")] double? ActiveShardsPercent);

/// <summary>_types:ErrorCause.</summary>
internal sealed record ErrorCause(
    [property: JsonPropertyName("type")] string? Type,
    [property: JsonPropertyName("reason")] string? Reason,
    [property: JsonPropertyName("caused_by")] ErrorCause? CausedBy,
    [property: JsonPropertyName("root_cause")] IReadOnlyList<ErrorCause>? RootCause)
{
    /// <summary>"type: reason (caused by type: reason)", for messages.</summary>
    public string Describe() =>
        CausedBy is null ? $"{Type}: {Reason}" : $"{Type}: {Reason} (caused by {CausedBy.Describe()})";
}

/// <summary>An error response body: <c>{"error": {...} | "text", "status": n}</c>.</summary>
internal sealed record ErrorResponse(
    [property: JsonPropertyName("error")] JsonElement Error,
    [property: JsonPropertyName("status")] int? Status);

/// <summary>An acknowledged write such as <c>PUT _index_template</c>.</summary>
internal sealed record AcknowledgedResponse([property: JsonPropertyName("acknowledged")] bool? Acknowledged);

/// <summary><c>_bulk</c> response (_global.bulk:Response).</summary>
internal sealed record BulkResponse(
    [property: JsonPropertyName("took")] long? Took,
    [property: JsonPropertyName("errors")] bool? Errors,
    [property: JsonPropertyName("items")] IReadOnlyList<Dictionary<string, BulkResponseItem>> Items);

/// <summary>_global.bulk:ResponseItem; the enclosing key is the operation (index, create, update, delete).</summary>
internal sealed record BulkResponseItem(
    [property: JsonPropertyName("_index")] string? Index,
    [property: JsonPropertyName("_id")] string? Id,
    [property: JsonPropertyName("status")] int? Status,
    [property: JsonPropertyName("result")] string? Result,
    [property: JsonPropertyName("error")] ErrorCause? Error);

/// <summary><c>_search</c> response (only hits are read).</summary>
internal sealed record SearchResponse(
    [property: JsonPropertyName("took")] long? Took,
    [property: JsonPropertyName("timed_out")] bool? TimedOut,
    [property: JsonPropertyName("hits")] SearchHits? Hits);

/// <summary>_global.search._types:HitsMetadata.</summary>
internal sealed record SearchHits(
    [property: JsonPropertyName("total")] JsonElement? Total,
    [property: JsonPropertyName("hits")] IReadOnlyList<SearchResponseHit> Hits);

/// <summary>_global.search._types:Hit, with this index's source.</summary>
internal sealed record SearchResponseHit(
    [property: JsonPropertyName("_index")] string? Index,
    [property: JsonPropertyName("_id")] string? Id,
    [property: JsonPropertyName("_score")] double? Score,
    [property: JsonPropertyName("_source")] ChunkSource? Source);

/// <summary>The stored fields a search reads back.</summary>
internal sealed record ChunkSource(
    [property: JsonPropertyName("article_id")] string? ArticleId,
    [property: JsonPropertyName("chunk_id")] string? ChunkId,
    [property: JsonPropertyName("text")] string? Text);

/// <summary><c>_count</c> response.</summary>
internal sealed record CountResponse([property: JsonPropertyName("count")] long Count);

/// <summary><c>_delete_by_query</c> response.</summary>
internal sealed record DeleteByQueryResponse(
    [property: JsonPropertyName("deleted")] long? Deleted,
    [property: JsonPropertyName("total")] long? Total,
    [property: JsonPropertyName("version_conflicts")] long? VersionConflicts,
    [property: JsonPropertyName("timed_out")] bool? TimedOut,
    [property: JsonPropertyName("failures")] IReadOnlyList<JsonElement>? Failures);

/// <summary><c>GET _index_template/{name}</c>.</summary>
internal sealed record IndexTemplatesResponse(
    [property: JsonPropertyName("index_templates")] IReadOnlyList<IndexTemplateItem>? IndexTemplates);

/// <summary>One entry of <see cref="IndexTemplatesResponse"/>.</summary>
internal sealed record IndexTemplateItem(
    [property: JsonPropertyName("name")] string? Name,
    [property: JsonPropertyName("index_template")] IndexTemplateBody? IndexTemplate);

/// <summary>The stored template.</summary>
internal sealed record IndexTemplateBody(
    [property: JsonPropertyName("index_patterns")] IReadOnlyList<string>? IndexPatterns,
    [property: JsonPropertyName("template")] IndexTemplateContent? Template);

/// <summary>Settings, mappings and aliases of a template.</summary>
internal sealed record IndexTemplateContent([property: JsonPropertyName("mappings")] JsonElement? Mappings);

/// <summary>One index of a <c>GET /{index}/_mapping</c> response, which is keyed by index name.</summary>
internal sealed record IndexMappingEntry([property: JsonPropertyName("mappings")] JsonElement? Mappings);

/// <summary>The bulk source document of one chunk.</summary>
internal sealed record ChunkDocument(
    [property: JsonPropertyName("chunk_id")] string ChunkId,
    [property: JsonPropertyName("article_id")] string ArticleId,
    [property: JsonPropertyName("n")] int N,
    [property: JsonPropertyName("feed_id")] string FeedId,
    [property: JsonPropertyName("tickers")] IReadOnlyList<string> Tickers,
    [property: JsonPropertyName("published_at")] string PublishedAt,
    [property: JsonPropertyName("title")] string Title,
    [property: JsonPropertyName("text")] string Text,
    [property: JsonPropertyName("vector")] float[]? Vector);

/// <summary>A bulk action line: <c>{"index": {"_index": …, "_id": …}}</c>.</summary>
internal sealed record BulkIndexAction([property: JsonPropertyName("index")] BulkActionTarget Index);

/// <summary>The target of a bulk action.</summary>
internal sealed record BulkActionTarget(
    [property: JsonPropertyName("_index")] string Index,
    [property: JsonPropertyName("_id")] string Id);

/// <summary>Source-generated (reflection-free) serialization of every Elasticsearch shape above.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(RootResponse))]
[JsonSerializable(typeof(ClusterHealthResponse))]
[JsonSerializable(typeof(ErrorResponse))]
[JsonSerializable(typeof(ErrorCause))]
[JsonSerializable(typeof(BulkResponse))]
[JsonSerializable(typeof(AcknowledgedResponse))]
[JsonSerializable(typeof(SearchResponse))]
[JsonSerializable(typeof(CountResponse))]
[JsonSerializable(typeof(DeleteByQueryResponse))]
[JsonSerializable(typeof(IndexTemplatesResponse))]
[JsonSerializable(typeof(Dictionary<string, IndexMappingEntry>))]
[JsonSerializable(typeof(ChunkDocument))]
[JsonSerializable(typeof(BulkIndexAction))]
internal sealed partial class ElasticsearchJsonContext : JsonSerializerContext;
