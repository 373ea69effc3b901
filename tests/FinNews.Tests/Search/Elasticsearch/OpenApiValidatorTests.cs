using System.Text.Json;

namespace FinNews.Tests.Search.Elasticsearch;

/// <summary>The spec validator rejects what Elasticsearch would reject, so a passing body check means something.</summary>
public sealed class OpenApiValidatorTests
{
    private static readonly OpenApiValidator Spec = OpenApiValidator.Elasticsearch817;

    private static List<string> ValidateSearch(string json)
    {
        var operation = Spec.FindOperation("POST", "/finnews-chunks/_search")!;
        using var document = JsonDocument.Parse(json);
        return Spec.Validate(document.RootElement, operation.BodySchema!.Value);
    }

    private static List<string> ValidateCreate(string json)
    {
        var operation = Spec.FindOperation("PUT", "/finnews-chunks-2025.01")!;
        operation.Id.Should().Be("indices-create");
        using var document = JsonDocument.Parse(json);
        return Spec.Validate(document.RootElement, operation.BodySchema!.Value);
    }

    [Fact]
    public void A_valid_knn_search_passes()
    {
        ValidateSearch("""{"size":5,"knn":{"field":"vector","query_vector":[0.1,0.2],"k":5,"num_candidates":50,"filter":[{"terms":{"tickers":["ACME"]}}]}}""")
            .Should().BeEmpty();
    }

    [Theory]
    [InlineData("""{"knn":{"field":"vector","query_vector":[0.1],"k":5,"num_candidate":50}}""", "num_candidate")]
    [InlineData("""{"knn":{"query_vector":[0.1],"k":5}}""", "required property 'field'")]
    [InlineData("""{"knn":{"field":"vector","query_vector":["x"],"k":5}}""", "expected number")]
    [InlineData("""{"size":"ten"}""", "expected number")]
    [InlineData("""{"query":{"match_all":{},"term":{"a":"b"}}}""", "at most 1")]
    [InlineData("""{"retriever":{"rrf":{"rank_constant":60}}}""", "required property 'retrievers'")]
    [InlineData("""{"retriever":{"rrf":{"retrievers":[{"knn":{"field":"v","k":1}}]}}}""", "num_candidates")]
    [InlineData("""{"retriever":{"rrf":{"retrievers":[],"window":10}}}""", "window")]
    [InlineData("""{"query":{"bool":{"filter":[{"range":{"published_at":{"gte":1,"lt":[]}}}]}}}""", "no oneOf branch")]
    public void Invalid_search_bodies_are_rejected(string body, string expected)
    {
        ValidateSearch(body).Should().Contain(e => e.Contains(expected, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("""{"mappings":{"properties":{"v":{"type":"dense_vector","dims":3,"index_options":{"type":"int9_hnsw"}}}}}""", "int9_hnsw")]
    [InlineData("""{"mappings":{"properties":{"v":{"type":"dense_vector","dims":3,"similarity":"euclid"}}}}""", "euclid")]
    [InlineData("""{"mappings":{"properties":{"v":{"type":"vector"}}}}""", "no oneOf branch has type 'vector'")]
    [InlineData("""{"mappings":{"dynamic":"sometimes"}}""", "sometimes")]
    [InlineData("""{"mappings":{"_meta":{"embedder":"hashing"}}}""", "expected object")]
    public void Invalid_index_definitions_are_rejected(string body, string expected)
    {
        ValidateCreate(body).Should().Contain(e => e.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void Bulk_action_lines_must_name_exactly_one_operation()
    {
        var container = Spec.Schema("_global.bulk:OperationContainer");
        Spec.Validate(JsonText.Element("""{"index":{"_index":"x","_id":"1"}}"""), container).Should().BeEmpty();
        Spec.Validate(JsonText.Element("""{"index":{"_index":"x"},"delete":{"_id":"1"}}"""), container).Should().NotBeEmpty();
        Spec.Validate(JsonText.Element("""{"upsert":{"_index":"x"}}"""), container).Should().NotBeEmpty();
        Spec.Validate(JsonText.Element("""{"index":{"_index":7}}"""), container).Should().NotBeEmpty();
    }

    [Fact]
    public void Query_parameters_must_be_declared_by_the_operation()
    {
        var operation = Spec.FindOperation("POST", "/finnews-chunks/_delete_by_query")!;
        operation.ValidateQuery("?conflicts=proceed&refresh=true").Should().BeEmpty();
        operation.ValidateQuery("?conflicts=ignore").Should().ContainSingle(e => e.Contains("ignore", StringComparison.Ordinal));
        operation.ValidateQuery("?refrsh=true").Should().ContainSingle(e => e.Contains("refrsh", StringComparison.Ordinal));
    }
}
