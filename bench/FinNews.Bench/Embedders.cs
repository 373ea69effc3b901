using FinNews.Core.Search;
using Microsoft.Extensions.AI;

namespace FinNews.Bench;

internal static class Embedders
{
    public static IEmbeddingGenerator<string, Embedding<float>> Create(string name, string? glovePath, int removedComponents = 0) => name switch
    {
        HashingEmbedder.ProviderName => new HashingEmbedder(),
        GloveEmbedder.ProviderName => GloveEmbedder.Load(glovePath ?? GloveInstaller.ModelPath("/tmp/finnews-models"), removedComponents: removedComponents),
        ArcticEmbedder.ProviderName => new ArcticEmbedder(),
        _ => throw new ArgumentException($"unknown embedder '{name}'"),
    };
}
