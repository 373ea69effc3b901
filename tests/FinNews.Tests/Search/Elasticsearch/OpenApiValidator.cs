using System.Globalization;
using System.Text.Json;

namespace FinNews.Tests.Search.Elasticsearch;

/// <summary>
/// A small JSON-schema validator over the official Elasticsearch OpenAPI subset in ../shared/corpora: finds the
/// operation by method and path, resolves <c>$ref</c>s, and checks required properties, types, enums, allOf,
/// oneOf/anyOf (at least one branch; the <c>discriminator</c> picks the branch when present), min/maxProperties, items,
/// additionalProperties, and declared query parameters.
/// </summary>
/// <remarks>
/// The spec never says <c>additionalProperties: false</c>, yet Elasticsearch rejects unknown keys in request bodies
/// ("unknown field"). So an object schema whose parts all declare their properties is treated as closed: a misspelt
/// <c>num_candidate</c> fails here as it would on a real cluster. A part that is a bare <c>{"type":"object"}</c> (how the
/// generator renders free-form maps such as a terms query's field → values) keeps the object open.
/// </remarks>
internal sealed class OpenApiValidator
{
    private static readonly Lazy<OpenApiValidator> Es817 = new(() =>
        new OpenApiValidator(Path.Combine(TestPaths.SharedCorpora, "elasticsearch-api", "openapi", "es-8.17-subset.openapi.json")));

    private static readonly Lazy<OpenApiValidator> Serverless = new(() =>
        new OpenApiValidator(Path.Combine(TestPaths.SharedCorpora, "elasticsearch-api", "openapi", "es-serverless-main-subset.openapi.json")));

    private readonly JsonElement _root;

    private OpenApiValidator(string path)
    {
        using var stream = File.OpenRead(path);
        _root = JsonDocument.Parse(stream).RootElement.Clone();
    }

    /// <summary>The Elasticsearch 8.17 stack spec subset.</summary>
    public static OpenApiValidator Elasticsearch817 => Es817.Value;

    /// <summary>The current (main) serverless spec subset: what the 9.x client's requests are checked against.</summary>
    public static OpenApiValidator ServerlessMain => Serverless.Value;

    /// <summary>The operation for a request, or null when the subset has no such path and method.</summary>
    public Operation? FindOperation(string method, string path)
    {
        var segments = path.Trim('/').Split('/', StringSplitOptions.RemoveEmptyEntries);
        Operation? best = null;
        var bestParams = int.MaxValue;
        foreach (var entry in _root.GetProperty("paths").EnumerateObject())
        {
            var template = entry.Name.Trim('/').Split('/', StringSplitOptions.RemoveEmptyEntries);
            if (template.Length != segments.Length || !entry.Value.TryGetProperty(method.ToLowerInvariant(), out var operation))
            {
                continue;
            }

            var parameters = 0;
            var matches = true;
            for (var i = 0; i < template.Length && matches; i++)
            {
                if (template[i].StartsWith('{'))
                {
                    parameters++;
                    // A path parameter never stands for an API segment such as _search.
                    matches = !segments[i].StartsWith('_');
                }
                else
                {
                    matches = template[i] == segments[i];
                }
            }

            if (matches && parameters < bestParams)
            {
                best = new Operation(this, entry.Name, method.ToUpperInvariant(), operation);
                bestParams = parameters;
            }
        }

        return best;
    }

    /// <summary>Follows <c>$ref</c> until a schema without one.</summary>
    public JsonElement Resolve(JsonElement schema)
    {
        for (var depth = 0; schema.ValueKind == JsonValueKind.Object && schema.TryGetProperty("$ref", out var reference); depth++)
        {
            if (depth > 64)
            {
                throw new InvalidOperationException("$ref cycle");
            }

            var target = _root;
            foreach (var part in reference.GetString()!.TrimStart('#', '/').Split('/'))
            {
                target = target.GetProperty(part.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal));
            }

            schema = target;
        }

        return schema;
    }

    /// <summary>A named component schema, e.g. <c>_global.bulk:OperationContainer</c>.</summary>
    public JsonElement Schema(string name) => _root.GetProperty("components").GetProperty("schemas").GetProperty(name);

    /// <summary>Every violation of <paramref name="schema"/> by <paramref name="instance"/>; empty when valid.</summary>
    /// <param name="closed">Treat declared-property objects as closed (requests); false for responses, which servers extend.</param>
    public List<string> Validate(JsonElement instance, JsonElement schema, string pointer = "$", bool closed = true)
    {
        var errors = new List<string>();
        Validate(instance, schema, pointer, errors, closed);
        return errors;
    }

    private void Validate(JsonElement instance, JsonElement schema, string pointer, List<string> errors, bool closed)
    {
        ValidateCore(instance, schema, pointer, errors, checkClosure: closed, closed);
    }

    private void ValidateCore(JsonElement instance, JsonElement schema, string pointer, List<string> errors, bool checkClosure, bool closed)
    {
        schema = Resolve(schema);
        if (schema.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        if (instance.ValueKind == JsonValueKind.Null)
        {
            if (!Flag(schema, "nullable") && schema.TryGetProperty("type", out _))
            {
                errors.Add($"{pointer}: null is not allowed");
            }

            return;
        }

        if (schema.TryGetProperty("allOf", out var allOf))
        {
            foreach (var part in allOf.EnumerateArray())
            {
                // Closure is judged once over the union of every part's properties, below.
                ValidateCore(instance, part, pointer, errors, checkClosure: false, closed);
            }
        }

        foreach (var keyword in new[] { "oneOf", "anyOf" })
        {
            if (schema.TryGetProperty(keyword, out var branches))
            {
                ValidateBranches(instance, schema, branches, keyword, pointer, errors, closed);
            }
        }

        if (schema.TryGetProperty("type", out var type) && !HasType(instance, type.GetString()!))
        {
            errors.Add($"{pointer}: expected {type.GetString()}, got {instance.ValueKind}");
            return;
        }

        if (schema.TryGetProperty("enum", out var values)
            && !values.EnumerateArray().Any(v => JsonElement.DeepEquals(v, instance)))
        {
            errors.Add($"{pointer}: {instance.GetRawText()} is not one of {values.GetRawText()}");
        }

        if (instance.ValueKind == JsonValueKind.Array && schema.TryGetProperty("items", out var items))
        {
            var i = 0;
            foreach (var item in instance.EnumerateArray())
            {
                Validate(item, items, string.Create(CultureInfo.InvariantCulture, $"{pointer}[{i++}]"), errors, closed);
            }
        }

        if (instance.ValueKind == JsonValueKind.Object)
        {
            ValidateObject(instance, schema, pointer, errors, checkClosure, closed);
        }
    }

    private void ValidateObject(JsonElement instance, JsonElement schema, string pointer, List<string> errors, bool checkClosure, bool closed)
    {
        var count = instance.EnumerateObject().Count();
        if (schema.TryGetProperty("minProperties", out var min) && count < min.GetInt32())
        {
            errors.Add($"{pointer}: needs at least {min.GetInt32()} properties, has {count}");
        }

        if (schema.TryGetProperty("maxProperties", out var max) && count > max.GetInt32())
        {
            errors.Add($"{pointer}: allows at most {max.GetInt32()} properties, has {count}");
        }

        if (schema.TryGetProperty("required", out var required))
        {
            foreach (var name in required.EnumerateArray().Select(r => r.GetString()!))
            {
                if (!instance.TryGetProperty(name, out _))
                {
                    errors.Add($"{pointer}: required property '{name}' is missing");
                }
            }
        }

        schema.TryGetProperty("properties", out var properties);
        schema.TryGetProperty("additionalProperties", out var additional);
        foreach (var property in instance.EnumerateObject())
        {
            var child = $"{pointer}.{property.Name}";
            if (properties.ValueKind == JsonValueKind.Object && properties.TryGetProperty(property.Name, out var propertySchema))
            {
                Validate(property.Value, propertySchema, child, errors, closed);
            }
            else if (additional.ValueKind == JsonValueKind.False)
            {
                errors.Add($"{child}: unknown property (additionalProperties is false)");
            }
            else if (additional.ValueKind == JsonValueKind.Object)
            {
                Validate(property.Value, additional, child, errors, closed);
            }
        }

        if (checkClosure && Closure(schema) is { } declared)
        {
            foreach (var property in instance.EnumerateObject().Where(p => !declared.Contains(p.Name)))
            {
                errors.Add($"{pointer}.{property.Name}: unknown property (declared: {string.Join(", ", declared.Order(StringComparer.Ordinal))})");
            }
        }
    }

    /// <summary>The declared property names of a closed object schema (own plus allOf parts), or null when open.</summary>
    private HashSet<string>? Closure(JsonElement schema)
    {
        var declared = new HashSet<string>(StringComparer.Ordinal);
        return Collect(schema, declared) && declared.Count > 0 ? declared : null;

        bool Collect(JsonElement s, HashSet<string> names)
        {
            s = Resolve(s);
            if (s.TryGetProperty("additionalProperties", out _) || s.TryGetProperty("oneOf", out _) || s.TryGetProperty("anyOf", out _))
            {
                return false;
            }

            var hasProperties = s.TryGetProperty("properties", out var props);
            if (hasProperties)
            {
                foreach (var p in props.EnumerateObject())
                {
                    names.Add(p.Name);
                }
            }

            var hasAllOf = s.TryGetProperty("allOf", out var parts);
            if (hasAllOf)
            {
                foreach (var part in parts.EnumerateArray())
                {
                    if (!Collect(part, names))
                    {
                        return false;
                    }
                }
            }

            // A bare {"type":"object"} is a free-form map in this generator's output.
            return hasProperties || hasAllOf;
        }
    }

    private void ValidateBranches(JsonElement instance, JsonElement schema, JsonElement branches, string keyword, string pointer, List<string> errors, bool closed)
    {
        var candidates = branches.EnumerateArray().ToList();
        if (schema.TryGetProperty("discriminator", out var discriminator)
            && instance.ValueKind == JsonValueKind.Object
            && instance.TryGetProperty(discriminator.GetProperty("propertyName").GetString()!, out var tag)
            && tag.ValueKind == JsonValueKind.String)
        {
            var name = discriminator.GetProperty("propertyName").GetString()!;
            candidates = candidates.Where(b => DeclaredEnum(b, name)?.Contains(tag.GetString()!) == true).ToList();
            if (candidates.Count == 0)
            {
                errors.Add($"{pointer}: no {keyword} branch has {name} '{tag.GetString()}'");
                return;
            }
        }

        var branchErrors = new List<string>();
        foreach (var branch in candidates)
        {
            var attempt = Validate(instance, branch, pointer, closed);
            if (attempt.Count == 0)
            {
                return;
            }

            branchErrors.Add(attempt[0]);
        }

        errors.Add($"{pointer}: matches no {keyword} branch ({string.Join(" | ", branchErrors.Distinct().Take(4))})");
    }

    private HashSet<string>? DeclaredEnum(JsonElement schema, string property)
    {
        schema = Resolve(schema);
        if (schema.TryGetProperty("properties", out var props) && props.TryGetProperty(property, out var p)
            && Resolve(p).TryGetProperty("enum", out var values))
        {
            return values.EnumerateArray().Select(v => v.GetString()!).ToHashSet(StringComparer.Ordinal);
        }

        if (schema.TryGetProperty("allOf", out var parts))
        {
            foreach (var part in parts.EnumerateArray())
            {
                if (DeclaredEnum(part, property) is { } found)
                {
                    return found;
                }
            }
        }

        return null;
    }

    private static bool HasType(JsonElement instance, string type) => type switch
    {
        "object" => instance.ValueKind == JsonValueKind.Object,
        "array" => instance.ValueKind == JsonValueKind.Array,
        "string" => instance.ValueKind == JsonValueKind.String,
        "boolean" => instance.ValueKind is JsonValueKind.True or JsonValueKind.False,
        "number" => instance.ValueKind == JsonValueKind.Number,
        "integer" => instance.ValueKind == JsonValueKind.Number && instance.TryGetInt64(out _),
        _ => true,
    };

    private static bool Flag(JsonElement schema, string name) =>
        schema.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.True;

    /// <summary>One operation of the spec.</summary>
    internal sealed record Operation(OpenApiValidator Spec, string PathTemplate, string Method, JsonElement Definition)
    {
        public string Id => Definition.GetProperty("operationId").GetString()!;

        /// <summary>The JSON request body schema, or null when the operation takes no body.</summary>
        public JsonElement? BodySchema
        {
            get
            {
                if (!Definition.TryGetProperty("requestBody", out var body))
                {
                    return null;
                }

                return Spec.Resolve(body).GetProperty("content").GetProperty("application/json").GetProperty("schema");
            }
        }

        /// <summary>The JSON schema of the 200 response, or null when the operation returns no JSON body.</summary>
        public JsonElement? ResponseSchema
        {
            get
            {
                if (!Definition.TryGetProperty("responses", out var responses) || !responses.TryGetProperty("200", out var ok))
                {
                    return null;
                }

                var response = Spec.Resolve(ok);
                return response.TryGetProperty("content", out var content) && content.TryGetProperty("application/json", out var json)
                    ? json.GetProperty("schema")
                    : null;
            }
        }

        /// <summary>Query parameters the request uses that the operation does not declare, or with a value outside its enum.</summary>
        public List<string> ValidateQuery(string query)
        {
            var errors = new List<string>();
            var declared = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
            if (Definition.TryGetProperty("parameters", out var parameters))
            {
                foreach (var parameter in parameters.EnumerateArray().Select(Spec.Resolve))
                {
                    if (parameter.GetProperty("in").GetString() == "query")
                    {
                        declared[parameter.GetProperty("name").GetString()!] = parameter;
                    }
                }
            }

            foreach (var pair in query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
            {
                var (name, value) = pair.IndexOf('=', StringComparison.Ordinal) is var eq and >= 0 ? (pair[..eq], Uri.UnescapeDataString(pair[(eq + 1)..])) : (pair, "true");
                if (!declared.TryGetValue(name, out var parameter))
                {
                    errors.Add($"{Method} {PathTemplate}: query parameter '{name}' is not declared");
                    continue;
                }

                // Query strings are text; check enums through the schema against the value as a JSON string.
                var schema = Spec.Resolve(parameter.GetProperty("schema"));
                using var asString = JsonDocument.Parse(JsonSerializer.Serialize(value));
                var enumErrors = Spec.Validate(asString.RootElement, schema, $"?{name}")
                    .Where(e => e.Contains("is not one of", StringComparison.Ordinal)).ToList();
                if (value is "true" or "false" or "-1" || value.All(char.IsAsciiDigit))
                {
                    enumErrors.Clear(); // booleans and numbers are typed, not enums
                }

                errors.AddRange(enumErrors);
            }

            return errors;
        }
    }
}
