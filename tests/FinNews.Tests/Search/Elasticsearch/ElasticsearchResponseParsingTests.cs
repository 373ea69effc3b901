using System.Text;
using System.Text.Json.Nodes;
using Elastic.Clients.Elasticsearch;
using Elastic.Clients.Elasticsearch.Cluster;
using YamlDotNet.RepresentationModel;

namespace FinNews.Tests.Search.Elasticsearch;

/// <summary>The documented example responses of the official spec parse with the official client's response types.</summary>
public sealed class ElasticsearchResponseParsingTests
{
    private static readonly ElasticsearchClient Client = new(new ElasticsearchClientSettings(new Uri("http://127.0.0.1:9")));

    /// <summary>The JSON text in an example file's <c>value:</c> (a JSON string scalar).</summary>
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

    private static T Parse<T>(string file)
    {
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(ExampleJson(file)));
        return Client.ElasticsearchClientSettings.RequestResponseSerializer.Deserialize<T>(stream)!;
    }

    [Fact]
    public void Bulk_success_example_parses_every_operation_kind()
    {
        var bulk = Parse<BulkResponse>("_global.bulk__BulkResponseExample1.yaml");
        bulk.Errors.Should().BeFalse();
        bulk.Items.Select(i => i.Status).Should().Equal(201, 404, 201, 200);
        bulk.Items.First().Should().Match<Elastic.Clients.Elasticsearch.Core.Bulk.ResponseItem>(i => i.Index == "test" && i.Id == "1" && i.Result == "created");
    }

    [Fact]
    public void Bulk_failure_example_exposes_per_item_errors()
    {
        var bulk = Parse<BulkResponse>("_global.bulk__BulkResponseExample2.yaml");
        bulk.Errors.Should().BeTrue();
        var failed = bulk.Items.Where(i => i.Error is not null).ToList();
        failed.Should().HaveCount(2).And.AllSatisfy(i =>
        {
            i.Status.Should().Be(404);
            i.Error!.Type.Should().Be("document_missing_exception");
        });
        failed[0].Error!.Reason.Should().Be("[5]: document missing");
    }

    [Fact]
    public void Count_delete_by_query_search_and_health_examples_parse()
    {
        Parse<CountResponse>("_global.count__CountResponseExample1.yaml").Count.Should().Be(1);
        Parse<DeleteByQueryResponse>("_global.delete_by_query__DeleteByQueryResponseExample1.yaml").Deleted.Should().BeGreaterThanOrEqualTo(0);
        var search = Parse<SearchResponse<JsonObject>>("_global.search__SearchResponseExample1.yaml");
        search.Hits.Should().NotBeEmpty().And.OnlyContain(h => h.Id != null);
        Parse<HealthResponse>("cluster.health__ClusterHealthResponseExample1.yaml").ClusterName.Should().NotBeNullOrEmpty();
    }
}
