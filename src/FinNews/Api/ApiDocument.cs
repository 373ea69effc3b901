using System.Text.Json.Nodes;
using FinNews.Core.Briefing;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace FinNews.Api;

/// <summary>
/// The OpenAPI document at /openapi/v1.json: the two ways to present a key, each operation's scope, its error
/// responses (ProblemDetails), and parameters described from their <see cref="ApiParameter"/> declarations.
/// </summary>
/// <remarks>
/// Responses come from endpoint metadata (TypedResults, Produces, ProducesProblem); what metadata cannot say (several
/// media types for one status, headers, per-status wording) is added here. tests/FinNews.Tests/Web/OpenApiDocumentTests
/// reads the document with Microsoft.OpenApi, and calls every operation to check that what it documents is what the
/// server does.
/// </remarks>
internal static class ApiDocument
{
    /// <summary>Security scheme: <c>Authorization: Bearer &lt;key&gt;</c>.</summary>
    public const string BearerScheme = "Bearer";

    /// <summary>Security scheme: <c>X-Api-Key: &lt;key&gt;</c>.</summary>
    public const string ApiKeyScheme = "ApiKey";

    private const string ProblemSchema = "ProblemDetails";

    private static readonly Dictionary<string, string> ErrorDescriptions = new(StringComparer.Ordinal)
    {
        ["400"] = "A parameter or the body is invalid; detail names the parameter and the bad value.",
        ["401"] = "No API key, or an unknown or revoked one (only while Auth:Enabled is true).",
        ["403"] = "The key's scope is too weak for this operation.",
        ["404"] = "Nothing with that id.",
        ["409"] = "Conflicts with what is stored; detail says what to do instead.",
        ["413"] = "The request body is over 1 MiB.",
        ["415"] = "The body is not JSON (Content-Type must be application/json).",
        ["429"] = "Over the key's requests per minute; Retry-After says how many seconds to wait.",
        ["500"] = "A failure inside the server; logged, and never shown with its exception.",
    };

    public static void Configure(OpenApiOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info = new OpenApiInfo
            {
                Title = "FinNews API",
                Version = "v1",
                Description = "Briefings, stored articles, search, ask and feed health from a FinNews server. "
                    + "With Auth:Enabled true every operation except /health needs an API key (Authorization: Bearer <key> or X-Api-Key: <key>) "
                    + "of the scope it lists (reader < editor < admin; each includes the ones before it). With Auth:Enabled false (the embedded default) "
                    + "reads are anonymous and admin operations are refused with 403. Errors are ProblemDetails (application/problem+json) whose detail "
                    + "says what was wrong; a bad query parameter's 400 names the parameter and its value. Unknown query parameters are ignored.",
            };
            AddSecuritySchemes(document);
            return Task.CompletedTask;
        });
        options.AddOperationTransformer((operation, context, _) =>
        {
            Describe(operation, context);
            return Task.CompletedTask;
        });
        options.AddSchemaTransformer((schema, _, _) =>
        {
            // A nullable property may be absent, not just null: answers (AnswerJsonContext, WhenWritingNull) leave
            // nulls out, down to their sources' articleId, while briefings write them.
            if (schema.Required is { } required && schema.Properties is { } properties)
            {
                foreach (var (name, property) in properties)
                {
                    if (property.Type is { } type && type.HasFlag(JsonSchemaType.Null))
                    {
                        required.Remove(name);
                    }
                }
            }

            return Task.CompletedTask;
        });
    }

    /// <summary>Documents an endpoint's parameters from their declarations (description, schema, required, example).</summary>
    /// <remarks>
    /// Fails the document when a declaration names a parameter the handler does not bind, or the handler binds a query
    /// parameter nobody declared: the document then cannot claim a parameter that does nothing, or miss one.
    /// </remarks>
    public static TBuilder WithParameters<TBuilder>(this TBuilder builder, params ApiParameter[] parameters)
        where TBuilder : IEndpointConventionBuilder => builder.AddOpenApiOperationTransformer((operation, context, _) =>
        {
            var bound = operation.Parameters ?? [];
            foreach (var declared in parameters)
            {
                var index = bound.ToList().FindIndex(p => p.Name == declared.Name && p.In == declared.In);
                if (index < 0)
                {
                    throw new InvalidOperationException($"{context.Description.RelativePath}: parameter '{declared.Name}' is declared but not bound by the handler.");
                }

                bound[index] = new OpenApiParameter
                {
                    Name = declared.Name,
                    In = declared.In,
                    Description = declared.Description,
                    Required = declared.Required || declared.In == ParameterLocation.Path,
                    Schema = declared.Schema(),
                    Example = declared.Example is null ? null : JsonValue.Create(declared.Example),
                };
            }

            if (bound.FirstOrDefault(p => p.In == ParameterLocation.Query && !parameters.Any(d => d.Name == p.Name)) is { } stray)
            {
                throw new InvalidOperationException($"{context.Description.RelativePath}: query parameter '{stray.Name}' is bound but not declared.");
            }

            return Task.CompletedTask;
        });

    /// <summary>
    /// POST /api/v1/ask: the request body and the two renderings of its 200 (JSON, or server-sent events with
    /// <c>Accept: text/event-stream</c>). The handler reads its body itself, so the document needs saying it.
    /// </summary>
    public static RouteHandlerBuilder WithAskDocumentation(this RouteHandlerBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder
            .WithSummary("Ask a question of the stored news")
            .WithDescription("An answer written from stored articles, every sentence citing its numbered sources. With Accept: text/event-stream the answer "
                + "streams as server-sent events: `delta` events carry text as it is written, then one `done` event carries the validated answer.")
            .Produces<Answer>(StatusCodes.Status200OK, "application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .AddOpenApiOperationTransformer((operation, _, _) =>
            {
                operation.RequestBody = new OpenApiRequestBody
                {
                    Required = true,
                    Description = "The question, and optionally the instant to answer as of.",
                    Content = new Dictionary<string, OpenApiMediaType>(StringComparer.Ordinal)
                    {
                        ["application/json"] = new()
                        {
                            Schema = new OpenApiSchema
                            {
                                Type = JsonSchemaType.Object,
                                Required = new HashSet<string>(StringComparer.Ordinal) { "question" },
                                Properties = new Dictionary<string, IOpenApiSchema>(StringComparer.Ordinal)
                                {
                                    ["question"] = new OpenApiSchema { Type = JsonSchemaType.String, MinLength = 1, MaxLength = 2000, Description = "Not blank; at most 2000 characters." },
                                    ["asOf"] = new OpenApiSchema
                                    {
                                        Type = JsonSchemaType.String | JsonSchemaType.Null,
                                        Description = "ISO 8601 instant (UTC when it has no offset): only articles published and first seen before it are used. Absent: now.",
                                    },
                                },
                            },
                            Example = new JsonObject { ["question"] = "Why are Aurelian Motors recalling SUVs?", ["asOf"] = "2026-11-21T06:00:00Z" },
                        },
                    },
                };

                if (operation.Responses?.TryGetValue("200", out var ok) == true && ok is OpenApiResponse response && response.Content is { } content)
                {
                    response.Description = "The answer (JSON), or with Accept: text/event-stream a stream of events.";
                    content["text/event-stream"] = new OpenApiMediaType
                    {
                        Schema = new OpenApiSchema
                        {
                            Type = JsonSchemaType.String,
                            Description = "Server-sent events. Each is `event: delta` or `event: done` and one `data:` line of JSON "
                                + "{\"type\", \"delta\"} or {\"type\": \"done\", \"final\": Answer}; the done event's answer replaces the text streamed before it.",
                        },
                        Example = "event: delta\ndata: {\"type\":\"delta\",\"delta\":\"Aurelian Motors is recalling \"}\n\n"
                            + "event: done\ndata: {\"type\":\"done\",\"final\":{\"question\":\"…\",\"text\":\"…\",\"sentences\":[],\"sources\":[]}}\n\n",
                    };
                }

                return Task.CompletedTask;
            });
    }

    private static void AddSecuritySchemes(OpenApiDocument document)
    {
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>(StringComparer.Ordinal);
        const string keys = "An API key from `finnews keys create --scope reader|editor|admin`. Needed only while Auth:Enabled is true. "
            + "Operations list the weakest scope they accept; a stronger one works too.";
        document.Components.SecuritySchemes[BearerScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            Description = keys + " Sent as Authorization: Bearer <key>.",
        };
        document.Components.SecuritySchemes[ApiKeyScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.ApiKey,
            In = ParameterLocation.Header,
            Name = ApiAuth.ApiKeyHeader,
            Description = keys + $" Sent as {ApiAuth.ApiKeyHeader}: <key>.",
        };
    }

    /// <summary>Security from the scope metadata <see cref="ApiAuth"/> puts on a group; 413 and 500; error wording and headers.</summary>
    private static void Describe(OpenApiOperation operation, OpenApiOperationTransformerContext context)
    {
        var document = context.Document ?? throw new InvalidOperationException("The operation transformer needs the document.");
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        operation.Responses ??= new OpenApiResponses();
        if (metadata.OfType<ApiScopeMetadata>().LastOrDefault() is { } scope)
        {
            AddSecuritySchemes(document);
            operation.Security =
            [
                new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, document)] = [scope.Scope] },
                new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(ApiKeyScheme, document)] = [scope.Scope] },
            ];
            operation.Description = Join(operation.Description, metadata.OfType<AdminApiMetadata>().Any()
                ? "Needs an admin key; refused with 403 while Auth:Enabled is false, so the embedded default never changes this over HTTP."
                : $"Needs a key of scope '{scope.Scope}' or stronger while Auth:Enabled is true; anonymous otherwise.");
        }

        if (operation.RequestBody is not null)
        {
            AddProblem(operation, document, "413");
        }

        if (context.Description.RelativePath?.StartsWith("api/", StringComparison.Ordinal) == true)
        {
            AddProblem(operation, document, "500");
        }

        foreach (var (status, response) in operation.Responses)
        {
            if (response is not OpenApiResponse r)
            {
                continue;
            }

            if (ErrorDescriptions.TryGetValue(status, out var text))
            {
                r.Description = status == "403" && metadata.OfType<AdminApiMetadata>().Any()
                    ? "The key is not an admin key, or Auth:Enabled is false (admin operations are refused over HTTP then)."
                    : text;
            }

            if (status == "429")
            {
                r.Headers = new Dictionary<string, IOpenApiHeader>(StringComparer.Ordinal)
                {
                    ["Retry-After"] = new OpenApiHeader { Description = "Seconds until the key may call again.", Schema = new OpenApiSchema { Type = JsonSchemaType.Integer } },
                };
            }
            else if (status == "401")
            {
                r.Headers = new Dictionary<string, IOpenApiHeader>(StringComparer.Ordinal)
                {
                    ["WWW-Authenticate"] = new OpenApiHeader { Description = "Bearer", Schema = new OpenApiSchema { Type = JsonSchemaType.String } },
                };
            }
        }
    }

    private static void AddProblem(OpenApiOperation operation, OpenApiDocument document, string status)
    {
        if (operation.Responses!.ContainsKey(status))
        {
            return;
        }

        operation.Responses[status] = new OpenApiResponse
        {
            Description = ErrorDescriptions[status],
            Content = new Dictionary<string, OpenApiMediaType>(StringComparer.Ordinal)
            {
                ["application/problem+json"] = new() { Schema = new OpenApiSchemaReference(ProblemSchema, document) },
            },
        };
    }

    private static string Join(string? first, string second) => string.IsNullOrEmpty(first) ? second : first + " " + second;
}

/// <summary>Endpoint metadata: the weakest scope an endpoint accepts (set by <see cref="ApiAuth.RequireScope"/>).</summary>
internal sealed record ApiScopeMetadata(string Scope);

/// <summary>Endpoint metadata: an admin operation, refused while Auth:Enabled is false (<see cref="ApiAuth.RequireAdmin"/>).</summary>
internal sealed record AdminApiMetadata;
