using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using FinNews.Core;
using FinNews.Tests.Support;
using Json.Schema;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.OpenApi;

namespace FinNews.Tests.Web;

/// <summary>
/// /openapi/v1.json read by Microsoft.OpenApi's reader and rules, then held to what the server does: every operation
/// is called without a key, with too weak a key, with its own scope and over its rate limit; every query parameter
/// with bad and good values; every answer's status must be documented for its operation, its media type documented
/// for that status, and its JSON body valid against the documented schema (JsonSchema.Net).
/// </summary>
public sealed class OpenApiDocumentTests(OpenApiTestServer server) : IClassFixture<OpenApiTestServer>
{
    [Fact]
    public void The_document_reads_without_errors_or_warnings_and_passes_the_default_rules()
    {
        var result = OpenApiDocument.Parse(server.Text, "json", new Microsoft.OpenApi.Reader.OpenApiReaderSettings());

        result.Diagnostic!.Errors.Should().BeEmpty();
        result.Diagnostic.Warnings.Should().BeEmpty();
        var document = result.Document!;
        document.Validate(ValidationRuleSet.GetDefaultRuleSet()).Should().BeEmpty();
        document.Paths.Keys.Should().Contain(["/api/v1/briefings/latest", "/api/v1/search", "/api/v1/ask", "/api/v1/feeds", "/health"]);
    }

    [Fact]
    public void Both_key_schemes_the_ask_body_its_stream_and_the_enums_are_described()
    {
        var doc = server.Document;
        var schemes = doc["components"]!["securitySchemes"]!;
        schemes["Bearer"]!["type"]!.GetValue<string>().Should().Be("http");
        schemes["Bearer"]!["scheme"]!.GetValue<string>().Should().Be("bearer");
        schemes["ApiKey"]!["type"]!.GetValue<string>().Should().Be("apiKey");
        schemes["ApiKey"]!["in"]!.GetValue<string>().Should().Be("header");
        schemes["ApiKey"]!["name"]!.GetValue<string>().Should().Be("X-Api-Key");

        var ask = doc["paths"]!["/api/v1/ask"]!["post"]!;
        ask["requestBody"]!["required"]!.GetValue<bool>().Should().BeTrue();
        var body = ask["requestBody"]!["content"]!["application/json"]!["schema"]!;
        body["required"]!.AsArray().Select(n => n!.GetValue<string>()).Should().Equal("question");
        body["properties"]!.AsObject().Select(p => p.Key).Should().BeEquivalentTo(["question", "asOf"]);
        ask["responses"]!["200"]!["content"]!.AsObject().Select(p => p.Key).Should().BeEquivalentTo(["application/json", "text/event-stream"]);

        Enum(doc, "/api/v1/search", "mode").Should().Equal("lexical", "vector", "hybrid");
        Enum(doc, "/api/v1/briefings/latest", "format").Should().Equal("json", "md", "html");
        Enum(doc, "/api/v1/briefings/{id}", "format").Should().Equal("json", "md", "html");
        Parameter(doc, "/api/v1/search", "q")["required"]!.GetValue<bool>().Should().BeTrue();
        foreach (var (path, _, operation) in server.Operations)
        {
            operation["summary"].Should().NotBeNull($"{path} has a summary");
            foreach (var p in operation["parameters"]?.AsArray() ?? [])
            {
                p!["description"].Should().NotBeNull($"{path} {p["name"]} is described");
            }
        }
    }

    [Fact]
    public async Task Every_operation_enforces_exactly_the_security_it_documents()
    {
        using var http = server.Client();
        foreach (var (path, method, operation) in server.Operations)
        {
            var scope = operation["security"]?.AsArray() is { Count: > 0 } security
                ? security.Select(r => r!.AsObject().Single().Value!.AsArray().Single()!.GetValue<string>()).Distinct().Single()
                : null;
            if (scope is null)
            {
                ((int)await server.CheckAsync(http, path, method, key: null)).Should().BeInRange(200, 299, $"{method} {path} documents no security");
                continue;
            }

            operation["security"]!.AsArray().SelectMany(r => r!.AsObject().Select(p => p.Key)).Should().BeEquivalentTo(["Bearer", "ApiKey"], $"{method} {path}");
            (await server.CheckAsync(http, path, method, key: null)).Should().Be(HttpStatusCode.Unauthorized, $"{method} {path} without a key");
            foreach (var weaker in server.Keys.Keys.Where(k => Rank(k) < Rank(scope)))
            {
                (await server.CheckAsync(http, path, method, server.Keys[weaker])).Should().Be(HttpStatusCode.Forbidden, $"{method} {path} with a {weaker} key");
            }

            var allowed = await server.CheckAsync(http, path, method, server.Keys[scope], header: "Authorization");
            allowed.Should().NotBe(HttpStatusCode.Unauthorized).And.NotBe(HttpStatusCode.Forbidden).And.NotBe(HttpStatusCode.TooManyRequests, $"{method} {path} with a {scope} key");
            (await server.CheckAsync(http, path, method, server.Throttled)).Should().Be(HttpStatusCode.TooManyRequests, $"{method} {path} over the key's limit");
            using var throttled = await server.SendAsync(http, path, method, server.Throttled);
            throttled.Headers.RetryAfter!.Delta.Should().BePositive("the documented Retry-After header is sent");
            using var anonymous = await server.SendAsync(http, path, method, key: null);
            anonymous.Headers.WwwAuthenticate.Single().Scheme.Should().Be("Bearer");
        }
    }

    [Fact]
    public async Task Admin_operations_are_refused_as_documented_while_auth_is_off()
    {
        using var env = TestEnvironment.Create();
        await using var app = await ApiParameterTests.StartAsync(env);
        using var http = ApiParameterTests.Client(app);
        foreach (var (path, method, operation) in server.Operations.Where(o => o.Operation["security"]?.ToJsonString().Contains("\"admin\"", StringComparison.Ordinal) == true))
        {
            using var response = await server.SendAsync(http, path, method, key: null);
            response.StatusCode.Should().Be(HttpStatusCode.Forbidden, $"{method} {path}");
            await server.ShouldBeDocumentedAsync(operation, response, $"{method} {path}");
        }
    }

    [Fact]
    public async Task Every_query_parameter_refuses_what_its_schema_refuses_and_takes_what_it_allows()
    {
        using var http = server.Client();
        var checkedParameters = 0;
        foreach (var (path, method, operation) in server.Operations)
        {
            foreach (var parameter in (operation["parameters"]?.AsArray() ?? []).Select(p => p!).Where(p => p["in"]!.GetValue<string>() == "query"))
            {
                var name = parameter["name"]!.GetValue<string>();
                var schema = parameter["schema"]!;
                var context = $"{method} {path} {name}";
                foreach (var bad in BadValues(schema))
                {
                    using var response = await server.SendAsync(http, path, method, server.Keys["admin"], (name, bad));
                    response.StatusCode.Should().Be(HttpStatusCode.BadRequest, $"{context}={bad}");
                    await server.ShouldBeDocumentedAsync(operation, response, $"{context}={bad}");
                    using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                    problem.RootElement.GetProperty("detail").GetString().Should().Contain(name).And.Contain($"'{bad}'", context);
                }

                foreach (var good in GoodValues(schema))
                {
                    using var response = await server.SendAsync(http, path, method, server.Keys["admin"], (name, good));
                    ((int)response.StatusCode).Should().BeInRange(200, 299, $"{context}={good}");
                    await server.ShouldBeDocumentedAsync(operation, response, $"{context}={good}");
                }

                if (parameter["required"]?.GetValue<bool>() == true)
                {
                    using var response = await server.SendAsync(http, path, method, server.Keys["admin"], (name, null));
                    response.StatusCode.Should().Be(HttpStatusCode.BadRequest, $"{context} missing");
                    (await response.Content.ReadAsStringAsync()).Should().Contain($"'{name}' is required");
                }

                checkedParameters++;
            }
        }

        checkedParameters.Should().BeGreaterThanOrEqualTo(12, "search, briefings, latest and by-id parameters");
    }

    [Fact]
    public async Task Answers_in_every_documented_media_type_match_their_schemas()
    {
        using var http = server.Client();
        var checkedBodies = 0;
        foreach (var (path, method, operation) in server.Operations)
        {
            using var response = await server.SendAsync(http, path, method, server.Keys["admin"]);
            await server.ShouldBeDocumentedAsync(operation, response, $"{method} {path}");
            checkedBodies++;
        }

        using var stream = await server.SendAsync(http, "/api/v1/ask", "post", server.Keys["reader"], accept: "text/event-stream");
        stream.Content.Headers.ContentType!.MediaType.Should().Be("text/event-stream");
        await server.ShouldBeDocumentedAsync(server.Operations.Single(o => o.Path == "/api/v1/ask").Operation, stream, "ask streamed");
        checkedBodies.Should().Be(server.Operations.Count);
    }

    [Fact]
    public async Task The_http_file_has_a_request_for_every_operation_and_each_answers_as_documented()
    {
        var requests = HttpFile.Parse(File.ReadAllText(Path.Combine(TestEnvironment.RepoRoot, "src", "FinNews", "FinNews.http")), new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["host"] = server.BaseAddress.TrimEnd('/'),
            ["key"] = server.Keys["admin"],
            ["briefingId"] = server.BriefingId,
            ["articleId"] = server.ArticleId,
            ["feedId"] = "meridian-wire",
        });
        using var http = new HttpClient();
        var covered = new HashSet<string>(StringComparer.Ordinal);
        foreach (var request in requests)
        {
            using var message = request.ToMessage();
            var relative = message.RequestUri!.AbsolutePath;
            if (relative.StartsWith("/openapi/", StringComparison.Ordinal))
            {
                (await http.SendAsync(message)).StatusCode.Should().Be(HttpStatusCode.OK);
                continue;
            }

            // The most literal template wins: /briefings/latest before /briefings/{id}.
            var (path, method, operation) = server.Operations.Where(o => string.Equals(o.Method, request.Method.Method, StringComparison.OrdinalIgnoreCase) && Matches(o.Path, relative))
                .OrderBy(o => o.Path.Count(c => c == '{')).First();
            using var response = await http.SendAsync(message);
            ((int)response.StatusCode).Should().BeLessThan(500, $"{request.Method} {relative}");
            await server.ShouldBeDocumentedAsync(operation, response, $".http {request.Method} {relative}");
            covered.Add($"{method} {path}");
        }

        covered.Should().BeEquivalentTo(server.Operations.Select(o => $"{o.Method} {o.Path}"), "FinNews.http shows every operation");
    }

    private static IEnumerable<string> BadValues(JsonNode schema)
    {
        var type = schema["type"]!.GetValue<string>();
        switch (type)
        {
            case "integer":
            case "number":
                yield return "abc";
                if (schema["minimum"] is { } min)
                {
                    yield return (min.GetValue<double>() - 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
                }

                if (schema["maximum"] is { } max)
                {
                    yield return (max.GetValue<double>() + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
                }

                break;
            case "boolean":
                yield return "maybe";
                break;
            case "string" when schema["enum"] is not null:
                yield return "no-such-value";
                break;
            case "string" when schema["pattern"] is { } pattern:
                Regex.IsMatch("soon", pattern.GetValue<string>()).Should().BeFalse();
                yield return "soon";
                break;
        }
    }

    private static IEnumerable<string> GoodValues(JsonNode schema)
    {
        foreach (var value in schema["enum"]?.AsArray() ?? [])
        {
            yield return value!.GetValue<string>();
        }

        foreach (var value in schema["examples"]?.AsArray() ?? [])
        {
            yield return value!.ToString();
        }

        foreach (var bound in new[] { schema["minimum"], schema["maximum"] }.OfType<JsonNode>())
        {
            yield return bound.ToJsonString();
        }

        if (schema["type"]!.GetValue<string>() == "boolean")
        {
            yield return "true";
            yield return "false";
        }
    }

    private static bool Matches(string template, string path)
    {
        var t = template.Trim('/').Split('/');
        var p = path.Trim('/').Split('/');
        return t.Length == p.Length && t.Zip(p).All(x => x.First.StartsWith('{') || x.First == x.Second);
    }

    private static int Rank(string scope) => scope switch { "reader" => 0, "editor" => 1, _ => 2 };

    private static List<string> Enum(JsonNode doc, string path, string name) =>
        Parameter(doc, path, name)["schema"]!["enum"]!.AsArray().Select(n => n!.GetValue<string>()).ToList();

    private static JsonNode Parameter(JsonNode doc, string path, string name) =>
        doc["paths"]![path]!["get"]!["parameters"]!.AsArray().Single(p => p!["name"]!.GetValue<string>() == name)!;

    /// <summary>The requests of a .http file (REST client format): <c>@name = value</c> variables, requests split by <c>###</c>.</summary>
    private sealed record HttpFile(HttpMethod Method, string Url, List<(string Name, string Value)> Headers, string? Body)
    {
        public static List<HttpFile> Parse(string text, Dictionary<string, string> overrides)
        {
            var variables = new Dictionary<string, string>(StringComparer.Ordinal);
            var requests = new List<HttpFile>();
            foreach (var block in text.Replace("\r\n", "\n", StringComparison.Ordinal).Split("###"))
            {
                var lines = block.Split('\n').ToList();
                foreach (var line in lines.Where(l => l.StartsWith('@')))
                {
                    var parts = line[1..].Split('=', 2);
                    variables[parts[0].Trim()] = parts[1].Trim();
                }

                string Expand(string s) => Regex.Replace(s, @"\{\{(\w+)\}\}", m => overrides.TryGetValue(m.Groups[1].Value, out var o) ? o : variables[m.Groups[1].Value]);
                var start = lines.FindIndex(l => Regex.IsMatch(l, "^(GET|POST|PUT|PATCH|DELETE) "));
                if (start < 0)
                {
                    continue;
                }

                var requestLine = Expand(lines[start]).Split(' ', 2);
                var headers = new List<(string, string)>();
                var i = start + 1;
                for (; i < lines.Count && lines[i].Trim().Length > 0; i++)
                {
                    var h = lines[i].Split(':', 2);
                    headers.Add((h[0].Trim(), Expand(h[1].Trim())));
                }

                var body = string.Join("\n", lines.Skip(i)).Trim();
                requests.Add(new HttpFile(new HttpMethod(requestLine[0]), requestLine[1].Trim(), headers, body.Length == 0 ? null : Expand(body)));
            }

            return requests;
        }

        public HttpRequestMessage ToMessage()
        {
            var message = new HttpRequestMessage(Method, Url);
            if (Body is not null)
            {
                message.Content = new StringContent(Body, Encoding.UTF8, Headers.FirstOrDefault(h => h.Name == "Content-Type").Value ?? "application/json");
            }

            foreach (var (name, value) in Headers.Where(h => h.Name != "Content-Type"))
            {
                message.Headers.TryAddWithoutValidation(name, value);
            }

            return message;
        }
    }
}

/// <summary>A server with auth on, the samples ingested, a briefing written, and keys of every scope.</summary>
public sealed class OpenApiTestServer : IAsyncLifetime
{
    private readonly TestEnvironment _env = TestEnvironment.Create();
    private WebApplication? _app;
    private int _schemas;

    public string Text { get; private set; } = "";

    public JsonNode Document { get; private set; } = new JsonObject();

    public List<(string Path, string Method, JsonNode Operation)> Operations { get; } = [];

    public Dictionary<string, string> Keys { get; } = new(StringComparer.Ordinal);

    /// <summary>An admin key already over its limit (the test clock never moves, so it stays over).</summary>
    public string Throttled { get; private set; } = "";

    public string BriefingId { get; private set; } = "";

    public string ArticleId { get; private set; } = "";

    public string BaseAddress => _app!.Urls.First();

    public async Task InitializeAsync()
    {
        _env.SetSetting("Auth:Enabled", true);
        _app = await ApiParameterTests.StartAsync(_env);
        var pipeline = _app.Services.GetRequiredService<FinNewsPipeline>();
        await pipeline.IngestAsync(null, CancellationToken.None);
        _env.Clock.Advance(TimeSpan.FromMinutes(5));
        BriefingId = (await pipeline.BriefAsync(null, CancellationToken.None)).Item1.Id;
        var store = _app.Services.GetRequiredService<FinNews.Core.Storage.Sqlite.SqliteApiKeyStore>();
        foreach (var scope in new[] { "reader", "editor", "admin" })
        {
            Keys[scope] = store.Create(scope, scope, requestsPerMinute: 100_000).Key;
        }

        Throttled = store.Create("throttled", "admin", requestsPerMinute: 1).Key;
        using var http = Client();
        (await SendAsync(http, "/api/v1/feeds", "get", Throttled)).EnsureSuccessStatusCode();
        Text = await http.GetStringAsync("/openapi/v1.json");
        Document = JsonNode.Parse(Text)!;
        foreach (var (path, item) in Document["paths"]!.AsObject())
        {
            foreach (var (method, operation) in item!.AsObject())
            {
                Operations.Add((path, method, operation!));
            }
        }

        using var search = JsonDocument.Parse(await (await SendAsync(http, "/api/v1/search", "get", Keys["reader"], ("q", "recall"))).Content.ReadAsStringAsync());
        ArticleId = search.RootElement[0].GetProperty("articleId").GetString()!;
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }

        _env.Dispose();
    }

    public HttpClient Client() => new() { BaseAddress = new Uri(BaseAddress) };

    /// <summary>
    /// Calls an operation with ids that exist (or, for changes, harmless ones), its required parameters set to
    /// their documented examples, and <paramref name="query"/> on top (a null value leaves the parameter out).
    /// </summary>
    public async Task<HttpResponseMessage> SendAsync(HttpClient http, string path, string method, string? key, (string Name, string? Value)? query = null,
        string header = "X-Api-Key", string? accept = null)
    {
        var operation = Operations.SingleOrDefault(o => o.Path == path && o.Method == method).Operation;
        var values = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var p in operation?["parameters"]?.AsArray().Select(p => p!) ?? [])
        {
            if (p["in"]!.GetValue<string>() == "query" && p["required"]?.GetValue<bool>() == true)
            {
                values[p["name"]!.GetValue<string>()] = p["example"]!.ToString();
            }
        }

        if (query is { } q)
        {
            values[q.Name] = q.Value;
        }

        var concrete = path.Replace("{id}", path switch
        {
            "/api/v1/briefings/{id}" => BriefingId,
            "/api/v1/articles/{id}" => ArticleId,
            "/api/v1/subscribers/{id}" => "999999",
            _ => "no-such-feed",
        }, StringComparison.Ordinal);
        var queryString = string.Join("&", values.Where(v => v.Value is not null).Select(v => $"{v.Key}={Uri.EscapeDataString(v.Value!)}"));
        using var request = new HttpRequestMessage(new HttpMethod(method.ToUpperInvariant()), queryString.Length == 0 ? concrete : $"{concrete}?{queryString}");
        request.Content = (method, path) switch
        {
            ("post", "/api/v1/ask") => Json("""{"question": "What did the Bank of Japan decide?"}"""),
            ("post", "/api/v1/subscribers") => Json("""{"email": "analyst@example.com", "timeZone": "Europe/London"}"""),
            ("post", "/api/v1/feeds") => Json("""{"id": "meridian-wire", "name": "Again", "url": "https://example.com/feed.xml"}"""),
            _ => null,
        };
        if (key is not null)
        {
            if (header == "Authorization")
            {
                request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
            }
            else
            {
                request.Headers.Add(header, key);
            }
        }

        if (accept is not null)
        {
            request.Headers.Accept.ParseAdd(accept);
        }

        return await http.SendAsync(request);
    }

    /// <summary>Sends, checks the answer is documented, and returns its status.</summary>
    public async Task<HttpStatusCode> CheckAsync(HttpClient http, string path, string method, string? key, string header = "X-Api-Key")
    {
        using var response = await SendAsync(http, path, method, key, header: header);
        await ShouldBeDocumentedAsync(Operations.Single(o => o.Path == path && o.Method == method).Operation, response, $"{method} {path}");
        return response.StatusCode;
    }

    /// <summary>The status is documented for the operation, the media type for the status, and a JSON body matches its schema.</summary>
    public async Task ShouldBeDocumentedAsync(JsonNode operation, HttpResponseMessage response, string context)
    {
        var status = ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var body = await response.Content.ReadAsStringAsync();
        var documented = operation["responses"]![status];
        documented.Should().NotBeNull($"{context} answered {status}, which its document does not list ({body})");
        if (body.Length == 0)
        {
            return;
        }

        var mediaType = response.Content.Headers.ContentType!.MediaType!;
        var content = documented!["content"]?[mediaType];
        content.Should().NotBeNull($"{context} answered {status} as {mediaType}, which its document does not list");
        if (!mediaType.EndsWith("json", StringComparison.Ordinal) || content!["schema"] is not { } schema)
        {
            return;
        }

        var defs = Document["components"]!["schemas"]!.ToJsonString();
        var text = $$"""{"$schema": "https://json-schema.org/draft/2020-12/schema", "$defs": {{defs}}, "allOf": [{{schema.ToJsonString()}}]}"""
            .Replace("#/components/schemas/", "#/$defs/", StringComparison.Ordinal);
        var json = JsonSchema.FromText(text, new BuildOptions(), new Uri($"https://finnews.test/schema/{Interlocked.Increment(ref _schemas)}"));
        using var instance = JsonDocument.Parse(body);
        var result = json.Evaluate(instance.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
        var errors = (result.Details ?? []).Where(d => d.Errors is { Count: > 0 })
            .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}")).ToList();
        result.IsValid.Should().BeTrue($"{context}: the {status} body matches its documented schema: {string.Join("; ", errors)}");
    }

    private static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");
}
