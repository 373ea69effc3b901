using System.Text.Json;
using System.Text.Json.Nodes;
using Elastic.Clients.Elasticsearch;
using Elastic.Clients.Elasticsearch.QueryDsl;
using YamlDotNet.RepresentationModel;

namespace FinNews.Tests.Search.Elasticsearch;

/// <summary>
/// The shared Elasticsearch REST test <c>rrf.300_rrf_retriever.yml</c> (corpora/elasticsearch-api/es-rest-tests): its
/// three documents, each case's retriever tree sent as a typed request through the official client, and the expected
/// hit order checked. This pins the fake cluster's rrf semantics to real Elasticsearch's, which the test comparing the
/// server-side path with client-side fusion relies on; every body is also checked against the serverless spec.
/// </summary>
public sealed class RrfRetrieverYamlTests
{
    private static readonly string File = Path.Combine(TestPaths.SharedCorpora, "elasticsearch-api", "es-rest-tests", "rrf.300_rrf_retriever.yml");

    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var name in Load().Where(d => d.Name != "setup").Select(d => d.Name))
        {
            data.Add(name);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task The_expected_hit_order_is_reproduced(string name)
    {
        var documents = Load();
        var setup = documents.Single(d => d.Name == "setup").Steps;
        var test = documents.Single(d => d.Name == name).Steps;
        await using var es = await EsHarness.StartAsync("enterprise");
        foreach (var step in setup.Select(s => s["do"]).OfType<JsonObject>())
        {
            if (step["indices.create"] is { } create)
            {
                es.Cluster.Indices[create["index"]!.GetValue<string>()] = create["body"]!.AsObject().DeepClone().AsObject();
            }
            else if (step["index"] is { } index)
            {
                es.Cluster.Put(index["index"]!.GetValue<string>(), index["id"]!.GetValue<string>(), index["body"]!.AsObject().DeepClone().AsObject());
            }
        }

        var search = test.Select(s => s["do"]?["search"]).OfType<JsonObject>().Single();
        var body = search["body"]!;
        var request = new SearchRequest(search["index"]!.GetValue<string>())
        {
            Retriever = Retriever(body["retriever"]!),
            Size = search["size"]?.GetValue<int>() ?? body["size"]?.GetValue<int>(),
            From = body["from"]?.GetValue<int>(),
            TrackTotalHits = body["track_total_hits"]!.GetValue<bool>(),
            Fields = [.. body["fields"]!.AsArray().Select(f => new Elastic.Clients.Elasticsearch.QueryDsl.FieldAndFormat { Field = f!.GetValue<string>() })],
        };

        var response = await es.Index.Client.SearchAsync<JsonObject>(request);

        response.IsValidResponse.Should().BeTrue(es.Searches.Single().BodyText);
        var ids = response.Hits.Select(h => h.Id).ToList();
        foreach (var assertion in test.Skip(1))
        {
            if (assertion["match"] is JsonObject match)
            {
                var (path, value) = match.Single();
                if (path == "hits.total.value")
                {
                    response.Total.Should().Be(value!.GetValue<long>(), name);
                }
                else if (path.StartsWith("hits.hits.", StringComparison.Ordinal) && path.EndsWith("._id", StringComparison.Ordinal))
                {
                    var position = int.Parse(path.Split('.')[2], System.Globalization.CultureInfo.InvariantCulture);
                    ids.Should().HaveCountGreaterThan(position);
                    ids[position].Should().Be(value!.GetValue<string>(), $"{name}: {path}");
                }
            }
            else if (assertion["length"] is JsonObject length)
            {
                ids.Should().HaveCount(length["hits.hits"]!.GetValue<int>(), name);
            }
        }

        var sent = es.Searches.Single();
        using var json = JsonDocument.Parse(sent.Body);
        var spec = OpenApiValidator.ServerlessMain;
        spec.Validate(json.RootElement, spec.FindOperation("POST", sent.Path)!.BodySchema!.Value).Should().BeEmpty();
    }

    /// <summary>The YAML retriever tree as the client's typed retrievers (knn, standard with term/match, rrf with filter and nesting).</summary>
    private static Retriever Retriever(JsonNode node)
    {
        var (kind, spec) = node.AsObject().Single();
        return kind switch
        {
            "knn" => new KnnRetriever(spec!["field"]!.GetValue<string>(), spec["k"]!.GetValue<int>())
            {
                QueryVector = [.. spec["query_vector"]!.AsArray().Select(v => v!.GetValue<float>())],
                NumCandidates = spec["num_candidates"]?.GetValue<int>(),
            },
            "standard" => new StandardRetriever { Query = Query(spec!["query"]!) },
            "rrf" => new RRFRetriever
            {
                Retrievers = [.. spec!["retrievers"]!.AsArray().Select(r => new RRFRetrieverComponent(Retriever(r!)))],
                RankWindowSize = spec["rank_window_size"]?.GetValue<int>(),
                RankConstant = spec["rank_constant"]?.GetValue<int>(),
                Filter = spec["filter"] is JsonArray filters ? [.. filters.Select(f => Query(f!))] : null,
            },
            _ => throw new NotSupportedException(kind),
        };
    }

    private static Query Query(JsonNode node)
    {
        var (kind, spec) = node.AsObject().Single();
        var (field, value) = spec!.AsObject().Single();
        return kind switch
        {
            "term" => new TermQuery(field, FieldValue.String(value!.GetValue<string>())),
            "match" => new MatchQuery(field, value!.GetValue<string>()),
            _ => throw new NotSupportedException(kind),
        };
    }

    /// <summary>The YAML documents as (section name, steps as JSON).</summary>
    private static List<(string Name, List<JsonObject> Steps)> Load()
    {
        var yaml = new YamlStream();
        using (var reader = new StreamReader(File))
        {
            yaml.Load(reader);
        }

        return yaml.Documents.Select(d =>
        {
            var (key, value) = ((YamlMappingNode)d.RootNode).Children.Single();
            return (((YamlScalarNode)key).Value!, ((YamlSequenceNode)value).Select(s => ToJson(s)!.AsObject()).ToList());
        }).ToList();
    }

    private static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(p => KeyValuePair.Create(((YamlScalarNode)p.Key).Value!, ToJson(p.Value)))),
        YamlSequenceNode seq => new JsonArray([.. seq.Select(ToJson)]),
        // Numbers and booleans as parsed JSON, so GetValue<int>/<float> convert as they do on request bodies.
        YamlScalarNode { Style: YamlDotNet.Core.ScalarStyle.Plain } scalar when double.TryParse(scalar.Value, System.Globalization.CultureInfo.InvariantCulture, out _)
            || scalar.Value is "true" or "false" => JsonNode.Parse(scalar.Value!),
        YamlScalarNode scalar => JsonValue.Create(scalar.Value),
        _ => null,
    };
}
