using System.Text.Json;
using FinNews.Core.Search;

namespace FinNews.Tests.Search.Elasticsearch;

/// <summary>
/// Every request the official client sends, captured over loopback (bodies gunzipped), validated against the current
/// serverless OpenAPI subset (es-serverless-main-subset.openapi.json): the operation must exist, its query parameters
/// be declared, and its body match the request-body schema. APIs outside the subset are checked part by part with the
/// subset's component schemas (index template, _msearch) or have no body (info, licence, health, mapping, refresh).
/// </summary>
public sealed class ElasticsearchRequestSchemaTests
{
    private static readonly OpenApiValidator Spec = OpenApiValidator.ServerlessMain;

    // The stack's index settings (number_of_shards/replicas) are not in the serverless spec; the 8.17 stack spec has them.
    private static readonly OpenApiValidator Stack = OpenApiValidator.Elasticsearch817;

    [Theory]
    [InlineData("basic", "none", "default")]
    [InlineData("enterprise", "rrf", "default")]
    [InlineData("trial", "linear", "default")]
    [InlineData(null, "auto", "serverless")]
    public async Task Every_request_body_the_client_sends_matches_the_serverless_spec(string? licence, string retriever, string flavor)
    {
        await using var es = await EsHarness.StartAsync(licence ?? "basic", o => o.HybridRetriever = retriever, c => c.BuildFlavor = flavor);
        await RunEveryOperationAsync(es);

        var operations = new HashSet<string>(StringComparer.Ordinal);
        var problems = new List<string>();
        foreach (var request in es.Server.Requests)
        {
            if (request.Path.EndsWith("/_msearch", StringComparison.Ordinal))
            {
                problems.AddRange(ValidateMultiSearch(request));
                operations.Add("msearch");
                continue;
            }

            if (request.Path.StartsWith("/_index_template/", StringComparison.Ordinal))
            {
                problems.AddRange(ValidateTemplate(request, flavor == "serverless"));
                continue;
            }

            if (request.Body.Length == 0 && request.Method is "GET" or "HEAD" || request.Path.EndsWith("/_refresh", StringComparison.Ordinal))
            {
                request.Body.Should().BeEmpty($"{request} sends no body");
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
            problems.AddRange(ValidateBody(request, operation, flavor == "serverless"));
        }

        problems.Should().BeEmpty();
        operations.Should().Contain(["indices-create", "bulk", "count-2", "delete-by-query", "indices-delete"]);
        operations.Should().Contain(retriever == "none" ? "msearch" : "search-3");
        es.Server.Requests.Should().Contain(r => r.Path == "/_license" || flavor == "serverless")
            .And.NotContain(r => flavor == "serverless" && (r.Path == "/_license" || r.Path.StartsWith("/_cluster", StringComparison.Ordinal)));
    }

    /// <summary>Initialize, index, search in every mode with every filter, count, retention, clear.</summary>
    internal static async Task RunEveryOperationAsync(EsHarness es)
    {
        await es.Index.InitializeAsync();
        await es.Index.IndexAsync(SearchTestData.Corpus());
        foreach (var mode in Enum.GetValues<SearchMode>())
        {
            await es.Index.SearchAsync(new SearchQuery("acme earnings", mode));
            await es.Index.SearchAsync(new SearchQuery("acme earnings", mode, 5,
                Since: SearchTestData.Jan1, Until: SearchTestData.Jan1.AddDays(20), Tickers: ["acme", "NVLX"], Sources: ["reuters"]));
        }

        await es.Index.CountAsync();
        await es.Index.DeleteAsync(["a4"]);
        await es.Index.DropBeforeAsync(SearchTestData.Jan1);
        await es.Index.ClearAsync();
    }

    private static List<string> ValidateBody(RecordedRequest request, OpenApiValidator.Operation operation, bool serverless)
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

        request.ContentType.Should().Be(EsLoopbackServer.VendoredJson);
        using var body = JsonDocument.Parse(request.Body);
        if (operation.Id == "indices-create" && !serverless)
        {
            return ValidateStackIndexBody(body.RootElement, $"{request}");
        }

        return Spec.Validate(body.RootElement, schema.Value, $"{request} $").ToList();
    }

    /// <summary>On the stack, settings carry shards and replicas: the rest is checked with the serverless spec, the settings with the stack's.</summary>
    private static List<string> ValidateStackIndexBody(JsonElement body, string where)
    {
        var problems = new List<string>();
        foreach (var part in body.EnumerateObject())
        {
            problems.AddRange(part.Name switch
            {
                "settings" => Stack.Validate(part.Value, Stack.Schema("indices._types:IndexSettings"), $"{where} settings"),
                "mappings" => Spec.Validate(part.Value, Spec.Schema("_types.mapping.TypeMapping"), $"{where} mappings"),
                "aliases" => part.Value.EnumerateObject().SelectMany(a => Spec.Validate(a.Value, Spec.Schema("indices._types.Alias"), $"{where} aliases.{a.Name}")),
                var other => [$"{where}: unexpected '{other}'"],
            });
        }

        return problems;
    }

    /// <summary>
    /// NDJSON: action lines must be an OperationContainer (exactly one of index/create/update/delete) naming index and
    /// id; source lines must fit the strict mapping (no undeclared field, vector of the declared dims).
    /// </summary>
    private static List<string> ValidateBulk(RecordedRequest request, JsonElement schema)
    {
        var problems = new List<string>();
        request.ContentType.Should().BeOneOf("application/x-ndjson", "application/vnd.elasticsearch+x-ndjson;compatible-with=9");
        request.BodyText.Should().EndWith("\n", "a bulk body must end with a newline");
        var lines = request.Lines;
        lines.Count.Should().BeGreaterThan(0).And.Subject.Should().Match(n => n % 2 == 0);
        var item = Spec.Resolve(schema).GetProperty("items");
        var declared = new[] { "chunk_id", "article_id", "feed_id", "tickers", "n", "published_at", "title", "text", "vector" };
        for (var i = 0; i < lines.Count; i += 2)
        {
            using var action = JsonDocument.Parse(lines[i]);
            using var source = JsonDocument.Parse(lines[i + 1]);
            problems.AddRange(Spec.Validate(action.RootElement, Spec.Schema("_global.bulk.OperationContainer"), $"bulk line {i}"));
            problems.AddRange(Spec.Validate(source.RootElement, item, $"bulk line {i + 1}"));
            var target = action.RootElement.GetProperty("index");
            target.EnumerateObject().Select(p => p.Name).Should().BeEquivalentTo(["_index", "_id"]);
            target.GetProperty("_id").GetString().Should().Be(source.RootElement.GetProperty("chunk_id").GetString());
            problems.AddRange(source.RootElement.EnumerateObject().Where(f => !declared.Contains(f.Name)).Select(f => $"bulk line {i + 1}: field '{f.Name}' is not in the strict mapping"));
            if (source.RootElement.TryGetProperty("vector", out var vector))
            {
                vector.GetArrayLength().Should().Be(64);
            }
        }

        return problems;
    }

    /// <summary>
    /// _msearch is not in the subset: its body lines are search bodies (checked with the /_search body schema) and its
    /// header lines may only hold the multisearch header keys (index, routing, preference...).
    /// </summary>
    private static List<string> ValidateMultiSearch(RecordedRequest request)
    {
        var problems = new List<string>();
        // The client labels _msearch's NDJSON with its compatibility JSON type (Elasticsearch accepts both).
        request.ContentType.Should().BeOneOf("application/x-ndjson", "application/vnd.elasticsearch+x-ndjson;compatible-with=9", EsLoopbackServer.VendoredJson);
        request.Query.Should().BeEmpty();
        var search = Spec.FindOperation("POST", "/finnews-chunks/_search")!.BodySchema!.Value;
        var lines = request.Lines;
        lines.Should().HaveCount(4, "one lexical and one knn search");
        string[] headerKeys = ["allow_no_indices", "expand_wildcards", "ignore_unavailable", "index", "preference", "project_routing", "request_cache", "routing", "search_type", "ccs_minimize_roundtrips", "allow_partial_search_results", "ignore_throttled"];
        for (var i = 0; i < lines.Count; i += 2)
        {
            using var header = JsonDocument.Parse(lines[i]);
            using var body = JsonDocument.Parse(lines[i + 1]);
            problems.AddRange(header.RootElement.EnumerateObject().Where(p => !headerKeys.Contains(p.Name)).Select(p => $"msearch header {i}: unknown '{p.Name}'"));
            problems.AddRange(Spec.Validate(body.RootElement, search, $"msearch body {i + 1}"));
        }

        return problems;
    }

    /// <summary>The index template API is not in the subset; its <c>template</c> holds what indices.create takes, checked with those schemas.</summary>
    private static List<string> ValidateTemplate(RecordedRequest request, bool serverless)
    {
        request.Method.Should().Be("PUT");
        using var body = JsonDocument.Parse(request.Body);
        var root = body.RootElement;
        root.EnumerateObject().Select(p => p.Name).Should().BeSubsetOf(
            ["index_patterns", "composed_of", "template", "version", "priority", "_meta", "data_stream", "allow_auto_create", "ignore_missing_component_templates", "deprecated"]);
        root.GetProperty("index_patterns").GetString().Should().Be("finnews-chunks-*");
        var template = root.GetProperty("template");
        return serverless
            ? Spec.Validate(template, Spec.FindOperation("PUT", "/finnews-chunks-2025.01")!.BodySchema!.Value, "template")
            : ValidateStackIndexBody(template, "template");
    }
}
