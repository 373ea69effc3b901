using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
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
    private static readonly string[] PinnedTexts =
    [
        "Novalux Semiconductor (NASDAQ: NVLX) raises guidance as chip shipments jump 12.5%",
        "The board also approved a dividend & a new share repurchase plan. The board also approved it.",
        "Zürich-based Ünternehmen: Straße, café, naïve — résumé 東京 株式 2026",
        "a b c d e f g h supercalifragilisticexpialidocious pneumonoultramicroscopicsilicovolcanoconiosis pneumonoultramicroscopicsilicovolcanoconiosis",
        "",
        "   ",
        "$NVLX $ORVC rises rises rises falls",
    ];

    [Theory]
    [InlineData(256, true, "C53D6A97DE48A782BC1C463F3FA806013EE56AF5BEFB2FEC23B7D2C6EF7C494C")]
    [InlineData(64, false, "A16770E36FCAD4C0EB70554A9EDA050E2D8F083F98453CD9085DFEDD357FE60D")]
    public void Vectors_are_bit_for_bit_those_of_the_first_release(int dimensions, bool trigrams, string sha256)
    {
        // Recorded with the embedder before it reused its feature map per thread and embedded batches in parallel:
        // an index built by either must stay valid for queries embedded by the other.
        var embedder = new HashingEmbedder(dimensions, trigrams);
        var bytes = PinnedTexts.SelectMany(t => MemoryMarshal.AsBytes(embedder.Embed(t).AsSpan()).ToArray()).ToArray();

        Convert.ToHexString(SHA256.HashData(bytes)).Should().Be(sha256);
    }

    [Fact]
    public async Task A_large_batch_embedded_in_parallel_equals_embedding_each_text_alone()
    {
        var embedder = new HashingEmbedder();
        var texts = Enumerable.Range(0, 500).Select(i => $"{PinnedTexts[i % PinnedTexts.Length]} {i} item {i % 7}").ToList();

        var batch = await embedder.GenerateAsync(texts);

        batch.Should().HaveCount(texts.Count);
        for (var i = 0; i < texts.Count; i++)
        {
            batch[i].Vector.ToArray().Should().Equal(embedder.Embed(texts[i]), $"text {i}");
        }
    }
}
