using System.Text.Json;
using System.Text.Json.Nodes;
using FinNews.Core.Search;
using FinNews.Core.Search.Elasticsearch;

namespace FinNews.Tests.Search.Elasticsearch;

/// <summary>
/// Every request the client sends, captured over loopback, validated against the official Elasticsearch 8.17 OpenAPI
/// subset: the operation must exist, its query parameters be declared, and its body match the request-body schema.
/// </summary>
public sealed class ElasticsearchRequestSchemaTests
{
    private static readonly OpenApiValidator Spec = OpenApiValidator.Elasticsearch817;

    // Not in the corpus subset (SOURCE.md lists the kept paths), nor is GET / (info); checked by hand below.
    private static readonly string[] OutsideSubset = ["/_index_template/", "/_mapping", "/_refresh"];

    [Theory]
    [InlineData("8.17.0")]
    [InlineData("8.11.1")]
    public async Task Every_request_body_the_client_sends_matches_the_8_17_spec(string version)
    {
        await using var es = await EsHarness.StartAsync(version);
        await RunEveryOperationAsync(es);

        var operations = new HashSet<string>(StringComparer.Ordinal);
        var problems = new List<string>();
        foreach (var request in es.Server.Requests)
        {
            if (request.Path == "/" || OutsideSubset.Any(p => request.Path.Contains(p, StringComparison.Ordinal)))
            {
                problems.AddRange(ValidateOutsideSubset(request));
                continue;
            }

            var operation = Spec.FindOperation(request.Method, request.Path);
            if (operation is null)
            {
                problems.Add($"{request}: no such operation in the spec");
                continue;
            }

            operations.Add(operation.Id);
            problems.AddRange(operation.ValidateQuery(request.Query));
            problems.AddRange(ValidateBody(request, operation));
        }

        problems.Should().BeEmpty();
        operations.Should().Contain(["indices-create", "bulk", "search-3", "count-2", "delete-by-query", "cluster-health", "indices-delete"]);
        var searches = es.Searches.Select(s => s.Json!.AsObject()).ToList();
        searches.Should().Contain(s => s.ContainsKey("query")).And.Contain(s => s.ContainsKey("knn"));
        if (version.StartsWith("8.17", StringComparison.Ordinal))
        {
            searches.Should().Contain(s => s.ContainsKey("retriever"));
        }
    }

    [Fact]
    public async Task The_fake_clusters_replies_match_the_spec_response_schemas()
    {
        // The behaviour tests are only as good as the replies they replay: check those against the spec too.
        await using var es = await EsHarness.StartAsync();
        await RunEveryOperationAsync(es);

        var checkedOperations = new HashSet<string>(StringComparer.Ordinal);
        var problems = new List<string>();
        foreach (var (request, reply) in es.Server.Exchanges.Where(e => e.Reply.Status == 200))
        {
            if (Spec.FindOperation(request.Method, request.Path) is { ResponseSchema: { } schema } operation)
            {
                using var body = JsonDocument.Parse(reply.Body);
                problems.AddRange(Spec.Validate(body.RootElement, schema, $"{request} reply", closed: false));
                checkedOperations.Add(operation.Id);
            }
        }

        problems.Should().BeEmpty();
        checkedOperations.Should().Contain(["indices-create", "bulk", "search-3", "count-2", "delete-by-query", "cluster-health"]);
    }

    /// <summary>Initialize, index, search in every mode with every filter, count, clear.</summary>
    internal static async Task RunEveryOperationAsync(EsHarness es)
    {
        await es.Index.InitializeAsync();
        await es.Index.IndexAsync(SearchTestData.Corpus());
        es.Cluster.SearchHits.AddRange(["a1#0", "a5#1", "a5#0"]);
        foreach (var mode in Enum.GetValues<SearchMode>())
        {
            await es.Index.SearchAsync(new SearchQuery("acme earnings", mode));
            await es.Index.SearchAsync(new SearchQuery("acme earnings", mode, 5,
                Since: SearchTestData.Jan1, Until: SearchTestData.Jan1.AddDays(20), Tickers: ["acme", "NVLX"], Sources: ["reuters"]));
        }

        await es.Index.CountAsync();
        await es.Index.ClearAsync();
    }

    private static List<string> ValidateBody(RecordedRequest request, OpenApiValidator.Operation operation)
    {
        var schema = operation.BodySchema;
        if (request.Body.Length == 0)
        {
            return [];
        }

        if (schema is null)
        {
            return [$"{request}: sends a body but {operation.Id} takes none"];
        }

        if (operation.Id.StartsWith("bulk", StringComparison.Ordinal))
        {
            return ValidateBulk(request, schema.Value);
        }

        request.ContentType.Should().StartWith("application/json");
        using var body = JsonDocument.Parse(request.Body);
        return Spec.Validate(body.RootElement, schema.Value, $"{request} $").ToList();
    }

    /// <summary>
    /// NDJSON: the spec types the body as an array whose items are an operation container or a source object. Action
    /// lines must be an OperationContainer (exactly one of index/create/update/delete); source lines follow an index
    /// action, and must fit the index's own mapping (strict mapping: no undeclared field, vector of the declared dims).
    /// </summary>
    private static List<string> ValidateBulk(RecordedRequest request, JsonElement schema)
    {
        var problems = new List<string>();
        request.ContentType.Should().StartWith("application/x-ndjson");
        request.BodyText.Should().EndWith("\n", "a bulk body must end with a newline");
        var lines = request.Lines;
        lines.Count.Should().BeGreaterThan(0).And.Subject.Should().Match(n => n % 2 == 0);
        var item = Spec.Resolve(schema).GetProperty("items");
        var expectedMapping = ElasticsearchRequests.Mappings(new ElasticsearchOptions(), 64, "hashing");
        for (var i = 0; i < lines.Count; i += 2)
        {
            using var action = JsonDocument.Parse(lines[i]);
            using var source = JsonDocument.Parse(lines[i + 1]);
            problems.AddRange(Spec.Validate(action.RootElement, Spec.Schema("_global.bulk:OperationContainer"), $"bulk line {i}"));
            problems.AddRange(Spec.Validate(action.RootElement, item, $"bulk line {i}"));
            problems.AddRange(Spec.Validate(source.RootElement, item, $"bulk line {i + 1}"));

            var target = action.RootElement.GetProperty("index");
            target.EnumerateObject().Select(p => p.Name).Should().BeEquivalentTo(["_index", "_id"]);
            target.GetProperty("_id").GetString().Should().Be(source.RootElement.GetProperty("chunk_id").GetString());
            var properties = expectedMapping["properties"]!.AsObject();
            foreach (var field in source.RootElement.EnumerateObject())
            {
                if (!properties.ContainsKey(field.Name))
                {
                    problems.Add($"bulk line {i + 1}: field '{field.Name}' is not in the strict mapping");
                }
            }

            if (source.RootElement.TryGetProperty("vector", out var vector))
            {
                vector.GetArrayLength().Should().Be(64);
            }
        }

        return problems;
    }

    /// <summary>
    /// The index template API is not in the corpus subset, but its <c>template</c> holds the same settings, mappings
    /// and aliases as indices.create, so those parts are validated with the indices.create component schemas.
    /// </summary>
    private static List<string> ValidateOutsideSubset(RecordedRequest request)
    {
        if (request.Method == "GET" || request.Body.Length == 0)
        {
            return [];
        }

        request.Path.Should().StartWith("/_index_template/");
        using var body = JsonDocument.Parse(request.Body);
        var root = body.RootElement;
        root.EnumerateObject().Select(p => p.Name).Should().BeSubsetOf(
            ["index_patterns", "composed_of", "template", "version", "priority", "_meta", "data_stream", "allow_auto_create", "ignore_missing_component_templates", "deprecated"]);
        root.GetProperty("index_patterns").EnumerateArray().Select(p => p.GetString()).Should().Equal("finnews-chunks-*");
        var template = root.GetProperty("template");
        template.EnumerateObject().Select(p => p.Name).Should().BeSubsetOf(["settings", "mappings", "aliases", "lifecycle"]);
        var problems = new List<string>();
        problems.AddRange(Spec.Validate(template.GetProperty("mappings"), Spec.Schema("_types.mapping:TypeMapping"), "template.mappings"));
        problems.AddRange(Spec.Validate(template.GetProperty("settings"), Spec.Schema("indices._types:IndexSettings"), "template.settings"));
        foreach (var alias in template.GetProperty("aliases").EnumerateObject())
        {
            problems.AddRange(Spec.Validate(alias.Value, Spec.Schema("indices._types:Alias"), $"template.aliases.{alias.Name}"));
        }

        return problems;
    }

    [Fact]
    public void The_hybrid_retriever_body_nests_standard_and_knn_under_rrf_with_the_same_filters()
    {
        var query = new SearchQuery("rates", SearchMode.Hybrid, 10, SearchTestData.Jan1, null, ["ACME"], ["ft"]);
        var filters = ElasticsearchRequests.Filters(query, ["ACME"]);
        var body = ElasticsearchRequests.RrfSearch("rates", [1f, 0f, 0f], filters, 50, 100);
        using var document = JsonDocument.Parse(body.ToJsonString());

        var operation = Spec.FindOperation("POST", "/finnews-chunks/_search")!;
        Spec.Validate(document.RootElement, operation.BodySchema!.Value).Should().BeEmpty();
        var rrf = body["retriever"]!["rrf"]!;
        rrf["rank_constant"]!.GetValue<int>().Should().Be(60);
        var standardFilter = rrf["retrievers"]![0]!["standard"]!["query"]!["bool"]!["filter"]!;
        var knnFilter = rrf["retrievers"]![1]!["knn"]!["filter"]!;
        JsonNode.DeepEquals(standardFilter, knnFilter).Should().BeTrue();
    }
}
