using System.Globalization;
using System.Text.Json.Nodes;
using FinNews.Core;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.OpenApi;

namespace FinNews.Api;

/// <summary>
/// A parameter of the HTTP API, declared once. Handlers bind query values as strings and read them through the
/// declaration, so a bad value is a 400 whose detail names the parameter and the value (a typed binding such as
/// <c>int? limit</c> fails before the handler runs, with no detail); the OpenAPI document describes the parameter from
/// the same declaration (<see cref="ApiDocument.WithParameters"/>), so the two cannot drift apart.
/// </summary>
/// <remarks>An empty value (<c>?since=</c>) counts as absent, as it does for typed bindings.</remarks>
internal abstract class ApiParameter(string name, string description)
{
    public string Name { get; } = name;

    public string Description { get; } = description;

    /// <summary>Where the parameter travels: the query string unless a path template names it.</summary>
    public virtual ParameterLocation In => ParameterLocation.Query;

    public bool Required { get; init; }

    /// <summary>A value that works, shown in the document.</summary>
    public string? Example { get; init; }

    /// <summary>The schema the document shows: what the server accepts, not the string it binds.</summary>
    public abstract OpenApiSchema Schema();

    protected static bool IsAbsent(string? text) => string.IsNullOrWhiteSpace(text);
}

/// <summary>A path segment such as <c>{id}</c>: any text; what it must match is the handler's business (404).</summary>
internal sealed class PathParameter(string name, string description) : ApiParameter(name, description)
{
    public override ParameterLocation In => ParameterLocation.Path;

    /// <summary>The route constrains it to a whole number (<c>{id:long}</c>): anything else matches no route (404).</summary>
    public bool WholeNumber { get; init; }

    public override OpenApiSchema Schema() => WholeNumber
        ? new() { Type = JsonSchemaType.Integer, Format = "int64" }
        : new() { Type = JsonSchemaType.String };
}

/// <summary>Free text; <see cref="ApiParameter.Required"/> makes a missing or blank value a 400.</summary>
internal sealed class TextParameter(string name, string description) : ApiParameter(name, description)
{
    public string? Read(string? text, ParameterErrors errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (IsAbsent(text))
        {
            if (Required)
            {
                errors.Add(Name, $"Query parameter '{Name}' is required.");
            }

            return null;
        }

        return text;
    }

    public override OpenApiSchema Schema() => new() { Type = JsonSchemaType.String, MinLength = Required ? 1 : null };
}

/// <summary>Comma-separated values (<c>NVLX,KLVN</c>); never invalid.</summary>
internal sealed class ListParameter(string name, string description) : ApiParameter(name, description)
{
    public static string[]? Read(string? text) =>
        IsAbsent(text) ? null : text!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public override OpenApiSchema Schema() => new() { Type = JsonSchemaType.String };
}

/// <summary>One of a fixed set of names (matched ignoring case).</summary>
internal sealed class EnumParameter(string name, string description, IReadOnlyList<string> values, string defaultValue) : ApiParameter(name, description)
{
    public IReadOnlyList<string> Values { get; } = values;

    /// <summary>The value as declared (lower case), the default when absent; the default too, with an error, when bad.</summary>
    public string Read(string? text, ParameterErrors errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (IsAbsent(text))
        {
            return defaultValue;
        }

        var match = Values.FirstOrDefault(v => string.Equals(v, text!.Trim(), StringComparison.OrdinalIgnoreCase));
        if (match is null)
        {
            errors.Add(Name, $"{Name} '{text}' must be {OneOf(Values)}.");
        }

        return match ?? defaultValue;
    }

    public override OpenApiSchema Schema() => new()
    {
        Type = JsonSchemaType.String,
        Enum = [.. Values.Select(v => (JsonNode)JsonValue.Create(v))],
        Default = JsonValue.Create(defaultValue),
    };

    private static string OneOf(IReadOnlyList<string> values) => values.Count switch
    {
        1 => values[0],
        _ => string.Join(", ", values.Take(values.Count - 1)) + " or " + values[^1],
    };
}

/// <summary>A whole number within bounds; out of bounds is a 400, never silently clamped.</summary>
internal sealed class IntegerParameter(string name, string description, int defaultValue, int min, int max) : ApiParameter(name, description)
{
    public int Min { get; } = min;

    public int Max { get; } = max;

    public int Read(string? text, ParameterErrors errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (IsAbsent(text))
        {
            return defaultValue;
        }

        if (int.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowLeadingWhite | NumberStyles.AllowTrailingWhite, CultureInfo.InvariantCulture, out var value)
            && value >= Min && value <= Max)
        {
            return value;
        }

        errors.Add(Name, string.Create(CultureInfo.InvariantCulture, $"{Name} '{text}' must be a whole number from {Min} to {Max}."));
        return defaultValue;
    }

    public override OpenApiSchema Schema() => new()
    {
        Type = JsonSchemaType.Integer,
        Format = "int32",
        Minimum = Min.ToString(CultureInfo.InvariantCulture),
        Maximum = Max.ToString(CultureInfo.InvariantCulture),
        Default = JsonValue.Create(defaultValue),
    };
}

/// <summary>A decimal number within bounds (invariant culture: <c>0.5</c>).</summary>
internal sealed class NumberParameter(string name, string description, double defaultValue, double min, double max) : ApiParameter(name, description)
{
    public double Read(string? text, ParameterErrors errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (IsAbsent(text))
        {
            return defaultValue;
        }

        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value) && value >= min && value <= max)
        {
            return value;
        }

        errors.Add(Name, string.Create(CultureInfo.InvariantCulture, $"{Name} '{text}' must be a number from {min} to {max}."));
        return defaultValue;
    }

    public override OpenApiSchema Schema() => new()
    {
        Type = JsonSchemaType.Number,
        Format = "double",
        Minimum = min.ToString(CultureInfo.InvariantCulture),
        Maximum = max.ToString(CultureInfo.InvariantCulture),
        Default = JsonValue.Create(defaultValue),
    };
}

/// <summary><c>true</c> or <c>false</c> (ignoring case).</summary>
internal sealed class BooleanParameter(string name, string description, bool defaultValue) : ApiParameter(name, description)
{
    public bool Read(string? text, ParameterErrors errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (IsAbsent(text))
        {
            return defaultValue;
        }

        if (bool.TryParse(text, out var value))
        {
            return value;
        }

        errors.Add(Name, $"{Name} '{text}' must be true or false.");
        return defaultValue;
    }

    public override OpenApiSchema Schema() => new() { Type = JsonSchemaType.Boolean, Default = JsonValue.Create(defaultValue) };
}

/// <summary>A time bound, read by <see cref="RelativeInstant"/> as the command line reads <c>--since</c>.</summary>
internal sealed class InstantParameter(string name, string description) : ApiParameter(name, description)
{
    /// <summary>The instant in UTC, or null when absent or bad (bad adds an error).</summary>
    /// <param name="now">The injected clock's time: relative values count back from it.</param>
    public DateTimeOffset? Read(string? text, DateTimeOffset now, ParameterErrors errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (IsAbsent(text))
        {
            return null;
        }

        if (RelativeInstant.TryParse(text, now, out var instant))
        {
            return instant;
        }

        errors.Add(Name, $"{Name} '{text}' must be {RelativeInstant.Accepted}.");
        return null;
    }

    // Not format: date-time: "24h" is as valid as an instant, and a generated client must not refuse it. The pattern
    // admits a duration or text starting with an ISO 8601 date; the server reads the rest.
    public override OpenApiSchema Schema() => new()
    {
        Type = JsonSchemaType.String,
        Pattern = "^([0-9]+[mhdwMHDW]|[0-9]{4}-[0-9]{2}-[0-9]{2}.*)$",
        Description = "A duration back from now (a whole number and m, h, d or w) or an ISO 8601 instant.",
        Examples = [JsonValue.Create("24h"), JsonValue.Create("2026-11-20T00:00:00Z")],
    };
}

/// <summary>Collects what is wrong with a request's parameters, so one 400 names every bad parameter at once.</summary>
internal sealed class ParameterErrors
{
    private readonly Dictionary<string, string[]> _errors = new(StringComparer.Ordinal);

    public void Add(string name, string message) =>
        _errors[name] = _errors.TryGetValue(name, out var messages) ? [.. messages, message] : [message];

    /// <summary>
    /// The 400 for what was collected, or null when nothing was: a ValidationProblem whose <c>errors</c> are keyed by
    /// parameter name and whose <c>detail</c> repeats every message (each names the parameter and the value).
    /// </summary>
    public ValidationProblem? Problem => _errors.Count == 0
        ? null
        : TypedResults.ValidationProblem(_errors, detail: string.Join(" ", _errors.Values.SelectMany(m => m)),
            title: _errors.Count == 1 ? $"Bad parameter: {_errors.Keys.First()}" : "Bad parameters: " + string.Join(", ", _errors.Keys));
}
