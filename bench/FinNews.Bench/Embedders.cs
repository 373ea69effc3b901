using FinNews.Core.Search;
using Microsoft.Extensions.AI;

namespace FinNews.Bench;

internal static class Embedders
{
    public static IEmbeddingGenerator<string, Embedding<float>> Create(string name, string? glovePath) => name switch
    {
        HashingEmbedder.ProviderName => new HashingEmbedder(),
        _ => throw new ArgumentException($"unknown embedder '{name}'"),
    };
}
