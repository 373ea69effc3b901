using System.ClientModel;
using Microsoft.Extensions.AI;
using OpenAI.Embeddings;

namespace FinNews.Core.Models;

/// <summary>
/// <see cref="IEmbeddingGenerator{TInput,TEmbedding}"/> over the OpenAI SDK's <see cref="EmbeddingClient"/> for any
/// OpenAI-compatible <c>/embeddings</c> endpoint: inputs go in batches of <see cref="ModelProfile.BatchSize"/>, vectors
/// come back in input order, with the profile's dimensions and the shared retry policy.
/// </summary>
public sealed class OpenAIEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
{
    private readonly EmbeddingClient _client;
    private readonly ModelProfile _profile;
    private readonly TimeProvider _time;
    private readonly EmbeddingGeneratorMetadata _metadata;

    /// <param name="profile">Endpoint, model, dimensions, batch size, timeout and retry settings.</param>
    /// <param name="time">Clock for retry waits and embedding timestamps (default: system).</param>
    /// <param name="environment">Reads the API key variable (default: the process environment).</param>
    public OpenAIEmbeddingGenerator(ModelProfile profile, TimeProvider time, Func<string, string?>? environment = null)
    {
        ArgumentNullException.ThrowIfNull(profile);
        _profile = profile;
        _time = time;
        _client = new EmbeddingClient(profile.Model, new ApiKeyCredential(profile.ResolveApiKey(environment)),
            OpenAIChatClient.ClientOptions(profile, time));
        _metadata = new EmbeddingGeneratorMetadata("openai-compatible", profile.Endpoint, profile.Model, profile.Dimensions);
    }

    /// <inheritdoc/>
    public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values,
        Microsoft.Extensions.AI.EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        var inputs = values.ToList();
        var result = new GeneratedEmbeddings<Embedding<float>>(inputs.Count);
        long inputTokens = 0, totalTokens = 0;
        var sdkOptions = new OpenAI.Embeddings.EmbeddingGenerationOptions { Dimensions = options?.Dimensions ?? _profile.Dimensions };
        foreach (var batch in inputs.Chunk(_profile.BatchSize))
        {
            var collection = (await _client.GenerateEmbeddingsAsync(batch, sdkOptions, cancellationToken)).Value;
            if (collection.Count != batch.Length)
            {
                throw new InvalidDataException($"Embedding endpoint returned {collection.Count} vectors for {batch.Length} inputs.");
            }

            // The API tags each vector with its input index; order by it rather than trusting response order.
            foreach (var embedding in collection.OrderBy(e => e.Index))
            {
                result.Add(new Embedding<float>(embedding.ToFloats()) { ModelId = collection.Model, CreatedAt = _time.GetUtcNow() });
            }

            inputTokens += collection.Usage?.InputTokenCount ?? 0;
            totalTokens += collection.Usage?.TotalTokenCount ?? 0;
        }

        result.Usage = new UsageDetails { InputTokenCount = inputTokens, TotalTokenCount = totalTokens };
        return result;
    }

    /// <inheritdoc/>
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null)
        {
            return null;
        }

        if (serviceType == typeof(EmbeddingGeneratorMetadata))
        {
            return _metadata;
        }

        return serviceType.IsInstanceOfType(_client) ? _client : serviceType.IsInstanceOfType(this) ? this : null;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        // Nothing of ours to release: the SDK client shares its pipeline transport.
    }
}
