using System.Text;
using FinNews.Core.Search.Elasticsearch;
using YamlDotNet.RepresentationModel;

namespace FinNews.Tests.Search.Elasticsearch;

/// <summary>The documented example responses of the official spec parse with the client's response types.</summary>
public sealed class ElasticsearchResponseParsingTests
{
    /// <summary>The JSON text in an example file's <c>value:</c> (a JSON string scalar, or YAML that is converted).</summary>
    internal static string ExampleJson(string file)
    {
        var path = Path.Combine(TestPaths.SharedCorpora, "elasticsearch-api", "spec-examples", file);
        var yaml = new YamlStream();
        using (var reader = new StreamReader(path))
        {
            yaml.Load(reader);
        }

        var value = ((YamlMappingNode)yaml.Documents[0].RootNode).Children[new YamlScalarNode("value")];
        return value is YamlScalarNode scalar ? scalar.Value! : throw new InvalidOperationException($"{file}: value is not a JSON string");
    }

    private static T Parse<T>(string file, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type) =>
        ElasticsearchTransport.Parse(file, Encoding.UTF8.GetBytes(ExampleJson(file)), type);

    [Fact]
    public void Bulk_success_example_parses_every_operation_kind()
    {
        var bulk = Parse("_global.bulk__BulkResponseExample1.yaml", ElasticsearchJsonContext.Default.BulkResponse);
        bulk.Errors.Should().BeFalse();
        bulk.Items.Select(i => i.Keys.Single()).Should().Equal("index", "delete", "create", "update");
        bulk.Items.Select(i => i.Values.Single().Status).Should().Equal(201, 404, 201, 200);
        bulk.Items[0]["index"].Should().Match<BulkResponseItem>(i => i.Index == "test" && i.Id == "1" && i.Result == "created");
    }

    [Fact]
    public void Bulk_failure_example_exposes_per_item_errors()
    {
        var bulk = Parse("_global.bulk__BulkResponseExample2.yaml", ElasticsearchJsonContext.Default.BulkResponse);
        bulk.Errors.Should().BeTrue();
        var failed = bulk.Items.Select(i => i.Values.Single()).Where(i => i.Error is not null).ToList();
        failed.Should().HaveCount(2);
        failed.Should().AllSatisfy(i =>
        {
            i.Status.Should().Be(404);
            i.Error!.Type.Should().Be("document_missing_exception");
        });
        failed[0].Error!.Reason.Should().Be("[5]: document missing");
        bulk.Items[2]["create"].Status.Should().Be(201);
    }

    [Fact]
    public void Bulk_filtered_example_without_status_still_parses()
    {
        var bulk = Parse("_global.bulk__BulkResponseExample3.yaml", ElasticsearchJsonContext.Default.BulkResponse);
        bulk.Items.Should().HaveCount(2);
        bulk.Items[0]["update"].Status.Should().BeNull();
        bulk.Items[0]["update"].Error!.Type.Should().Be("document_missing_exception");
    }

    [Fact]
    public void Count_example_parses()
    {
        Parse("_global.count__CountResponseExample1.yaml", ElasticsearchJsonContext.Default.CountResponse).Count.Should().Be(1);
    }

    [Fact]
    public void Delete_by_query_example_parses()
    {
        var result = Parse("_global.delete_by_query__DeleteByQueryResponseExample1.yaml", ElasticsearchJsonContext.Default.DeleteByQueryResponse);
        result.Deleted.Should().Be(119);
        result.VersionConflicts.Should().Be(0);
        result.Failures.Should().BeEmpty();
    }

    [Fact]
    public void Search_example_parses_hits_and_scores()
    {
        var result = Parse("_global.search__SearchResponseExample1.yaml", ElasticsearchJsonContext.Default.SearchResponse);
        result.TimedOut.Should().BeFalse();
        var hit = result.Hits!.Hits.Should().ContainSingle().Subject;
        hit.Id.Should().Be("0");
        hit.Index.Should().Be("my-index-000001");
        hit.Score.Should().BeApproximately(1.3862942, 1e-7);
        // The example's source is not a chunk: the fields this client reads are simply absent.
        hit.Source!.ArticleId.Should().BeNull();
    }

    [Fact]
    public void Cluster_health_example_parses()
    {
        var health = Parse("cluster.health__ClusterHealthResponseExample1.yaml", ElasticsearchJsonContext.Default.ClusterHealthResponse);
        health.Status.Should().Be("yellow");
        health.ClusterName.Should().Be("testcluster");
        health.UnassignedShards.Should().Be(1);
        health.ActiveShardsPercent.Should().Be(50.0);
    }

    [Fact]
    public void Every_response_example_in_the_corpus_is_covered()
    {
        var examples = Directory.GetFiles(Path.Combine(TestPaths.SharedCorpora, "elasticsearch-api", "spec-examples"), "*ResponseExample*.yaml")
            .Select(Path.GetFileName).Order(StringComparer.Ordinal);
        examples.Should().Equal(
            "_global.bulk__BulkResponseExample1.yaml", "_global.bulk__BulkResponseExample2.yaml", "_global.bulk__BulkResponseExample3.yaml",
            "_global.count__CountResponseExample1.yaml", "_global.delete_by_query__DeleteByQueryResponseExample1.yaml",
            "_global.search__SearchResponseExample1.yaml", "cluster.health__ClusterHealthResponseExample1.yaml");
    }

    [Fact]
    public void Error_bodies_give_type_and_reason()
    {
        var (type, reason) = ElasticsearchTransport.DescribeError(Encoding.UTF8.GetBytes(
            """{"error":{"root_cause":[{"type":"resource_already_exists_exception","reason":"index [x/abc] already exists"}],"type":"resource_already_exists_exception","reason":"index [x/abc] already exists"},"status":400}"""));
        type.Should().Be("resource_already_exists_exception");
        reason.Should().Be("index [x/abc] already exists");

        ElasticsearchTransport.DescribeError(Encoding.UTF8.GetBytes("<html>Bad gateway</html>")).Reason.Should().Contain("Bad gateway");
    }
}
