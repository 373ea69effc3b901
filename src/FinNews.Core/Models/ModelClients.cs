using System.ClientModel;
using Microsoft.Extensions.AI;
using OpenAI;

namespace FinNews.Core.Models;

/// <summary>
/// The OpenAI SDK clients of a profile, seen through Microsoft.Extensions.AI: <c>AsIChatClient</c> for chat and
/// <c>AsIEmbeddingGenerator</c> for embeddings, both on one SDK pipeline with the profile's endpoint, per-attempt
/// timeout and <see cref="ModelRetryPolicy"/>.
/// </summary>
public static class ModelClients
{
    /// <summary>SDK options for a profile: endpoint, per-attempt timeout, retry policy.</summary>
    public static OpenAIClientOptions Options(ModelProfile profile, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(profile);
        return new OpenAIClientOptions
        {
            Endpoint = profile.Endpoint,
            NetworkTimeout = profile.Timeout,
            RetryPolicy = ModelRetryPolicy.For(profile, time),
            UserAgentApplicationId = "FinNews",
        };
    }

    /// <summary>The profile's chat model as an <see cref="IChatClient"/> (OpenAI SDK underneath).</summary>
    /// <param name="environment">Reads the API key variable (default: the process environment).</param>
    public static IChatClient Chat(ModelProfile profile, TimeProvider time, Func<string, string?>? environment = null)
    {
        ArgumentNullException.ThrowIfNull(profile);
        return new OpenAIClient(new ApiKeyCredential(profile.ResolveApiKey(environment)), Options(profile, time))
            .GetChatClient(profile.Model).AsIChatClient();
    }

    /// <summary>The profile's embedding model, sending at most <see cref="ModelProfile.BatchSize"/> inputs per request.</summary>
    public static IEmbeddingGenerator<string, Embedding<float>> Embeddings(ModelProfile profile, TimeProvider time,
        Func<string, string?>? environment = null)
    {
        ArgumentNullException.ThrowIfNull(profile);
        var generator = new OpenAIClient(new ApiKeyCredential(profile.ResolveApiKey(environment)), Options(profile, time))
            .GetEmbeddingClient(profile.Model).AsIEmbeddingGenerator(profile.Dimensions);
        return new BatchingEmbeddingGenerator(generator, profile.BatchSize);
    }
}

/// <summary>
/// Splits a large embedding request into requests of at most <c>batchSize</c> inputs (endpoints cap inputs per
/// request; the M.E.AI OpenAI generator sends everything in one), keeping input order and summing usage.
/// </summary>
public sealed class BatchingEmbeddingGenerator(IEmbeddingGenerator<string, Embedding<float>> inner, int batchSize)
    : DelegatingEmbeddingGenerator<string, Embedding<float>>(inner)
{
    /// <inheritdoc/>
    public override async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values,
        EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        // The query marker is for local models; an OpenAI-compatible endpoint must not receive it as a request field.
        options = FinNews.Core.Search.EmbeddingInput.Strip(options);
        var inputs = values as IReadOnlyList<string> ?? values.ToList();
        if (inputs.Count <= batchSize)
        {
            return await base.GenerateAsync(inputs, options, cancellationToken);
        }

        var result = new GeneratedEmbeddings<Embedding<float>>(inputs.Count);
        long input = 0, total = 0;
        foreach (var batch in inputs.Chunk(batchSize))
        {
            var part = await base.GenerateAsync(batch, options, cancellationToken);
            if (part.Count != batch.Length)
            {
                throw new InvalidDataException($"Embedding endpoint returned {part.Count} vectors for {batch.Length} inputs.");
            }

            result.AddRange(part);
            input += part.Usage?.InputTokenCount ?? 0;
            total += part.Usage?.TotalTokenCount ?? 0;
        }

        result.Usage = new UsageDetails { InputTokenCount = input, TotalTokenCount = total };
        return result;
    }
}
