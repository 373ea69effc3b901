using System.Numerics.Tensors;
using FinNews.Core.Search;
using Microsoft.Extensions.AI;

namespace FinNews.Tests.Search;

public class HashingEmbedderTests
{
    [Fact]
    public void Same_text_gives_the_same_vector_across_instances()
    {
        var first = new HashingEmbedder().Embed("Acme beats estimates; shares rise 5%");
        var second = new HashingEmbedder().Embed("Acme beats estimates; shares rise 5%");

        second.Should().Equal(first);
    }

    [Fact]
    public void Vectors_do_not_depend_on_the_process()
    {
        // string.GetHashCode is randomized per process, so equality across instances alone cannot catch it; these
        // buckets were recorded once and must only change together with ModelId.
        var vector = new HashingEmbedder().Embed("acme");

        var buckets = Enumerable.Range(0, vector.Length).Where(i => vector[i] != 0).ToArray();
        buckets.Should().Equal(PinnedAcmeBuckets);
    }

    private static readonly int[] PinnedAcmeBuckets = [13, 26, 40, 75, 91];

    [Fact]
    public void Vectors_are_unit_length()
    {
        var vector = new HashingEmbedder().Embed("Federal Reserve holds interest rates steady");

        TensorPrimitives.Norm(vector).Should().BeApproximately(1f, 1e-5f);
    }

    [Fact]
    public void Empty_text_is_the_zero_vector()
    {
        new HashingEmbedder().Embed("  ...  ").Should().OnlyContain(x => x == 0f);
    }

    [Fact]
    public void Similar_texts_are_closer_than_unrelated_ones()
    {
        var embedder = new HashingEmbedder();
        var text = embedder.Embed("Acme reports record quarterly earnings");
        var similar = embedder.Embed("Acme quarterly earnings hit a record");
        var unrelated = embedder.Embed("Heavy rain floods coastal towns");

        TensorPrimitives.Dot(text, similar).Should().BeGreaterThan(TensorPrimitives.Dot(text, unrelated) + 0.3f);
    }

    [Fact]
    public async Task Generator_reports_its_metadata_and_dimensions()
    {
        using var embedder = new HashingEmbedder(dimensions: 64);

        var embeddings = await embedder.GenerateAsync(["one", "two"]);
        var metadata = embedder.GetService<EmbeddingGeneratorMetadata>();

        embeddings.Should().HaveCount(2).And.OnlyContain(e => e.Vector.Length == 64 && e.ModelId == "hashing-v1");
        metadata!.ProviderName.Should().Be("hashing");
        metadata.DefaultModelId.Should().Be("hashing-v1");
        metadata.DefaultModelDimensions.Should().Be(64);
    }
}
