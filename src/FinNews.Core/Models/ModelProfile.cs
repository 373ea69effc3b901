using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace FinNews.Core.Models;

/// <summary>
/// One named model endpoint from <c>config/models.json</c>: where it is served, which model, how to authenticate and
/// how patiently to call it. The API key itself is never stored here, only the name of the environment variable that
/// holds it.
/// </summary>
public sealed record ModelProfile
{
    /// <summary>Profile name (briefing, base, judge, embedding; any name works).</summary>
    public required string Name { get; init; }

    /// <summary>Off by default: a disabled profile is never called, so the offline default stays extractive.</summary>
    public bool Enabled { get; init; }

    /// <summary>Base URL of an OpenAI-compatible API, including the version segment (https://api.openai.com/v1,
    /// http://127.0.0.1:11434/v1 for Ollama, http://host:8000/v1 for vLLM or llama.cpp server).</summary>
    public required Uri Endpoint { get; init; }

    /// <summary>Model id as the endpoint names it (an OpenAI <c>ft:</c> id, a vLLM LoRA name, an Ollama tag).</summary>
    public required string Model { get; init; }

    /// <summary>The model id this profile had before the last <c>finnews models use</c> (to roll back to); null if never changed.</summary>
    public string? PreviousModel { get; init; }

    /// <summary>Price in US dollars per million prompt tokens (for eval cost figures); null when not configured.</summary>
    public decimal? InputPricePerMillionTokens { get; init; }

    /// <summary>Price in US dollars per million completion tokens; null when not configured.</summary>
    public decimal? OutputPricePerMillionTokens { get; init; }

    /// <summary>The model's training-data cutoff: news after it can only come from retrieval (eval freshness).</summary>
    public DateOnly? TrainingCutoff { get; init; }

    /// <summary>Name of the environment variable holding the API key; null for local servers that need none.</summary>
    public string? ApiKeyEnv { get; init; }

    /// <summary>Time allowed for one attempt (request sent to last byte read).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Retries after the first attempt, on 408/429/5xx and network errors or timeouts.</summary>
    public int MaxRetries { get; init; } = 3;

    /// <summary>First backoff delay; doubles per retry, with jitter.</summary>
    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Longest wait between attempts. A Retry-After beyond it ends the retries instead of being cut short.</summary>
    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The endpoint accepts <c>response_format: json_schema</c> (OpenAI, vLLM, recent Ollama); otherwise the
    /// writer asks for a strict Markdown bullet format.</summary>
    public bool SupportsJsonSchema { get; init; }

    /// <summary>Sampling temperature; null leaves the server default.</summary>
    public float? Temperature { get; init; }

    /// <summary>Cap on generated tokens per call; null leaves the server default.</summary>
    public int? MaxOutputTokens { get; init; }

    /// <summary>Embedding dimensions to request (embedding profiles; null = the model's native size).</summary>
    public int? Dimensions { get; init; }

    /// <summary>Inputs per embeddings request.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>The model's context window in tokens (prompt plus reply); null = the known size of the model family
    /// (<see cref="ModelTokenizer.DefaultContextWindow"/>).</summary>
    public int? ContextWindow { get; init; }

    /// <summary>Most model round trips of one <c>ask</c> that may call tools; the last one is offered no tools.</summary>
    public int MaxToolSteps { get; init; } = 5;

    /// <summary>Wall time one <c>ask</c> may spend (all model calls and tools together).</summary>
    public TimeSpan AskTimeout { get; init; } = TimeSpan.FromSeconds(90);

    /// <summary>Prompt tokens one <c>ask</c> may send in all its model calls together (counted before each call).</summary>
    public int AskTokenBudget { get; init; } = 30_000;

    /// <summary>The context window in effect: the configured one, else the model family's.</summary>
    public int EffectiveContextWindow => ContextWindow ?? ModelTokenizer.DefaultContextWindow(Model);

    /// <summary>
    /// Reads the API key from <see cref="ApiKeyEnv"/>. Local servers without a key get a placeholder, because the SDK
    /// insists on a credential and such servers ignore it.
    /// </summary>
    /// <exception cref="InvalidOperationException">The variable is named but unset.</exception>
    public string ResolveApiKey(Func<string, string?>? environment = null)
    {
        if (ApiKeyEnv is null)
        {
            return "no-key";
        }

        var key = (environment ?? Environment.GetEnvironmentVariable)(ApiKeyEnv);
        return string.IsNullOrWhiteSpace(key)
            ? throw new InvalidOperationException($"Model profile '{Name}' needs an API key in environment variable {ApiKeyEnv}, which is not set.")
            : key;
    }

    /// <summary>Why this profile cannot be used now (disabled, key missing), or null when it can.</summary>
    public string? NotConfiguredReason(Func<string, string?>? environment = null)
    {
        if (!Enabled)
        {
            return $"model profile '{Name}' is disabled";
        }

        if (ApiKeyEnv is not null && string.IsNullOrWhiteSpace((environment ?? Environment.GetEnvironmentVariable)(ApiKeyEnv)))
        {
            return $"model profile '{Name}' has no API key: environment variable {ApiKeyEnv} is not set";
        }

        return null;
    }
}

/// <summary>The model profiles of <c>config/models.json</c>, by name.</summary>
public sealed class ModelProfiles
{
    /// <summary>The profile the LLM writer uses.</summary>
    public const string Briefing = "briefing";

    /// <summary>The untuned model, for comparisons.</summary>
    public const string Base = "base";

    /// <summary>The embedding model.</summary>
    public const string Embedding = "embedding";

    private readonly Dictionary<string, ModelProfile> _profiles;

    /// <summary>Wraps already-validated profiles.</summary>
    public ModelProfiles(IEnumerable<ModelProfile> profiles)
    {
        ArgumentNullException.ThrowIfNull(profiles);
        _profiles = profiles.ToDictionary(p => p.Name, StringComparer.Ordinal);
    }

    /// <summary>Every profile, configured or not.</summary>
    public IReadOnlyCollection<ModelProfile> All => _profiles.Values;

    /// <summary>The named profile, or null when the file does not define it.</summary>
    public ModelProfile? Find(string name) => _profiles.GetValueOrDefault(name);

    /// <summary>
    /// The named profile when it is defined, enabled and has its key; otherwise null and the reason, so a caller can
    /// fall back (to the extractive writer, to hashing embeddings) and say why.
    /// </summary>
    public ModelProfile? Configured(string name, out string? reason, Func<string, string?>? environment = null)
    {
        if (!_profiles.TryGetValue(name, out var profile))
        {
            reason = $"no model profile named '{name}' is defined";
            return null;
        }

        reason = profile.NotConfiguredReason(environment);
        return reason is null ? profile : null;
    }

    /// <summary>Loads a models file; a missing file means no profiles (the offline default).</summary>
    /// <exception cref="InvalidDataException">The file is not valid JSON or a value is out of range; the message names
    /// the profile, the key and the bad value.</exception>
    public static ModelProfiles Load(string path)
    {
        if (!File.Exists(path))
        {
            return new ModelProfiles([]);
        }

        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>Parses the JSON text of a models file (<paramref name="origin"/> names it in errors).</summary>
    public static ModelProfiles Parse(string json, string origin = "models.json")
    {
        ModelsFile? file;
        try
        {
            file = JsonSerializer.Deserialize(json, ModelsJsonContext.Default.ModelsFile);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{origin}: not valid JSON: {ex.Message}", ex);
        }

        var profiles = new List<ModelProfile>();
        foreach (var (name, p) in file?.Profiles ?? [])
        {
            profiles.Add(ToProfile(name, p, origin));
        }

        return new ModelProfiles(profiles);
    }

    private static ModelProfile ToProfile(string name, ProfileJson p, string origin)
    {
        string Where(string key) => $"{origin}: profiles.{name}.{key}";
        if (string.IsNullOrWhiteSpace(p.Endpoint) || !Uri.TryCreate(p.Endpoint, UriKind.Absolute, out var endpoint)
            || (endpoint.Scheme != Uri.UriSchemeHttp && endpoint.Scheme != Uri.UriSchemeHttps))
        {
            throw new InvalidDataException($"{Where("endpoint")}: '{p.Endpoint}' is not an absolute http(s) URL.");
        }

        if (string.IsNullOrWhiteSpace(p.Model))
        {
            throw new InvalidDataException($"{Where("model")}: a model id is required.");
        }

        if (p.ApiKey is not null)
        {
            // Secrets live in the environment, never in files that get committed or copied.
            throw new InvalidDataException($"{Where("apiKey")}: API keys are not read from files; name an environment variable in apiKeyEnv.");
        }

        static void Check(bool ok, string where, object? value, string rule)
        {
            if (!ok)
            {
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"{where}: {value} {rule}."));
            }
        }

        Check(p.TimeoutSeconds is null or > 0 and <= 3600, Where("timeoutSeconds"), p.TimeoutSeconds, "must be in (0, 3600]");
        Check(p.MaxRetries is null or >= 0 and <= 10, Where("maxRetries"), p.MaxRetries, "must be in [0, 10]");
        Check(p.RetryBaseDelaySeconds is null or >= 0 and <= 60, Where("retryBaseDelaySeconds"), p.RetryBaseDelaySeconds, "must be in [0, 60]");
        Check(p.MaxRetryDelaySeconds is null or >= 0 and <= 600, Where("maxRetryDelaySeconds"), p.MaxRetryDelaySeconds, "must be in [0, 600]");
        Check(p.Temperature is null or >= 0 and <= 2, Where("temperature"), p.Temperature, "must be in [0, 2]");
        Check(p.MaxOutputTokens is null or > 0, Where("maxOutputTokens"), p.MaxOutputTokens, "must be positive");
        Check(p.Dimensions is null or > 0, Where("dimensions"), p.Dimensions, "must be positive");
        Check(p.BatchSize is null or > 0 and <= 2048, Where("batchSize"), p.BatchSize, "must be in [1, 2048]");
        Check(p.ContextWindowTokens is null or >= 1024, Where("contextWindowTokens"), p.ContextWindowTokens, "must be at least 1024");
        Check(p.MaxToolSteps is null or >= 1 and <= 20, Where("maxToolSteps"), p.MaxToolSteps, "must be in [1, 20]");
        Check(p.AskTimeoutSeconds is null or > 0 and <= 3600, Where("askTimeoutSeconds"), p.AskTimeoutSeconds, "must be in (0, 3600]");
        Check(p.AskTokenBudget is null or >= 1000, Where("askTokenBudget"), p.AskTokenBudget, "must be at least 1000");
        Check(p.InputPricePerMillionTokens is null or >= 0, Where("inputPricePerMillionTokens"), p.InputPricePerMillionTokens, "must not be negative");
        Check(p.OutputPricePerMillionTokens is null or >= 0, Where("outputPricePerMillionTokens"), p.OutputPricePerMillionTokens, "must not be negative");
        DateOnly? cutoff = null;
        if (p.TrainingCutoff is { } c)
        {
            Check(DateOnly.TryParseExact(c, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d), Where("trainingCutoff"), $"'{c}'", "is not a date (yyyy-MM-dd)");
            cutoff = d;
        }

        Check(p.ApiKeyEnv is null || p.ApiKeyEnv.Length > 0, Where("apiKeyEnv"), "''", "must name a variable or be omitted");

        return new ModelProfile
        {
            Name = name,
            Enabled = p.Enabled ?? false,
            Endpoint = endpoint,
            Model = p.Model,
            PreviousModel = p.PreviousModel,
            InputPricePerMillionTokens = p.InputPricePerMillionTokens,
            OutputPricePerMillionTokens = p.OutputPricePerMillionTokens,
            TrainingCutoff = cutoff,
            ApiKeyEnv = p.ApiKeyEnv,
            Timeout = TimeSpan.FromSeconds(p.TimeoutSeconds ?? 60),
            MaxRetries = p.MaxRetries ?? 3,
            RetryBaseDelay = TimeSpan.FromSeconds(p.RetryBaseDelaySeconds ?? 1),
            MaxRetryDelay = TimeSpan.FromSeconds(p.MaxRetryDelaySeconds ?? 30),
            SupportsJsonSchema = p.SupportsJsonSchema ?? false,
            Temperature = p.Temperature,
            MaxOutputTokens = p.MaxOutputTokens,
            Dimensions = p.Dimensions,
            BatchSize = p.BatchSize ?? 64,
            ContextWindow = p.ContextWindowTokens,
            MaxToolSteps = p.MaxToolSteps ?? 5,
            AskTimeout = TimeSpan.FromSeconds(p.AskTimeoutSeconds ?? 90),
            AskTokenBudget = p.AskTokenBudget ?? 30_000,
        };
    }

    internal sealed class ModelsFile
    {
        public Dictionary<string, ProfileJson>? Profiles { get; set; }
    }

    internal sealed class ProfileJson
    {
        public bool? Enabled { get; set; }
        public string? Endpoint { get; set; }
        public string? Model { get; set; }
        public string? PreviousModel { get; set; }
        public decimal? InputPricePerMillionTokens { get; set; }
        public decimal? OutputPricePerMillionTokens { get; set; }
        public string? TrainingCutoff { get; set; }
        public string? ApiKeyEnv { get; set; }
        public string? ApiKey { get; set; }
        public double? TimeoutSeconds { get; set; }
        public int? MaxRetries { get; set; }
        public double? RetryBaseDelaySeconds { get; set; }
        public double? MaxRetryDelaySeconds { get; set; }
        public bool? SupportsJsonSchema { get; set; }
        public float? Temperature { get; set; }
        public int? MaxOutputTokens { get; set; }
        public int? Dimensions { get; set; }
        public int? BatchSize { get; set; }
        public int? ContextWindowTokens { get; set; }
        public int? MaxToolSteps { get; set; }
        public double? AskTimeoutSeconds { get; set; }
        public int? AskTokenBudget { get; set; }
    }
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, ReadCommentHandling = JsonCommentHandling.Skip,
    AllowTrailingCommas = true, UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow)]
[JsonSerializable(typeof(ModelProfiles.ModelsFile))]
internal sealed partial class ModelsJsonContext : JsonSerializerContext;
