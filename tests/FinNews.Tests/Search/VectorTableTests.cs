using System.Numerics.Tensors;
using FinNews.Core.Search;

namespace FinNews.Tests.Search;

public class VectorTableTests
{
    private const int Dims = 16;

    [Fact]
    public void Parallel_scan_returns_the_exact_top_k()
    {
        // Above the parallel threshold, so partitions are used; the answer must match a plain sort.
        var random = new Random(42);
        var table = new VectorTable(Dims, generation: 1);
        var vectors = new List<float[]>();
        for (var i = 0; i < 40_000; i++)
        {
            var vector = RandomUnit(random);
            vectors.Add(vector);
            table.Add($"art{i}", 0, i, "feed", [], vector);
        }

        var query = RandomUnit(random);
        var expected = vectors
            .Select((v, i) => (Id: $"art{i}#0", Score: TensorPrimitives.Dot(v, query)))
            .OrderByDescending(x => x.Score)
            .Take(25)
            .Select(x => x.Id);

        var hits = table.Search(query, new VectorFilter(null, null, null, null), 25);

        hits.Select(h => h.ChunkId).Should().Equal(expected);
    }

    [Fact]
    public void Removed_articles_and_filtered_rows_are_never_returned()
    {
        var table = new VectorTable(Dims, generation: 1);
        var vector = Unit(0);
        table.Add("old", 0, 100, "reuters", ["ACME"], vector);
        table.Add("old", 1, 100, "reuters", ["ACME"], vector);
        table.Add("new", 0, 200, "ft", ["NVLX"], vector);
        table.Add("newer", 0, 300, "ft", ["ACME", "NVLX"], vector);
        table.RemoveArticle("old");

        table.DeadRows.Should().Be(2);
        table.Search(vector, new VectorFilter(null, null, null, null), 10).Select(h => h.ArticleId).Should().Equal("new", "newer");
        table.Search(vector, new VectorFilter(200, 300, null, null), 10).Select(h => h.ArticleId).Should().Equal("new");
        table.Search(vector, new VectorFilter(null, null, ["ACME"], null), 10).Select(h => h.ArticleId).Should().Equal("newer");
        table.Search(vector, new VectorFilter(null, null, null, ["reuters"]), 10).Should().BeEmpty();
        table.Search(vector, new VectorFilter(null, null, null, ["unknown"]), 10).Should().BeEmpty();
    }

    [Fact]
    public void Rows_with_nothing_in_common_are_not_hits()
    {
        var table = new VectorTable(Dims, generation: 1);
        table.Add("a", 0, 0, "f", [], Unit(0));
        table.Add("b", 0, 0, "f", [], Unit(1));

        table.Search(Unit(1), new VectorFilter(null, null, null, null), 10).Select(h => h.ArticleId).Should().Equal("b");
    }

    [Fact]
    public void The_8_bit_first_pass_returns_the_exact_top_hits_with_exact_scores_on_embedded_text()
    {
        // 20,000 synthetic headlines embedded with the hashing embedder (256 dims), 50 queries from the same words:
        // the quantized search must give the exact scan's top 10 in the same order, and nearly all of its top 50.
        var embedder = new HashingEmbedder();
        var random = new Random(7);
        var words = Enumerable.Range(0, 3_000).Select(i => $"w{i}x{(char)('a' + (i % 26))}").ToArray();
        string Text(int length) => string.Join(' ', Enumerable.Range(0, length).Select(_ => words[(int)(Math.Pow(random.NextDouble(), 2) * words.Length)]));
        var table = new VectorTable(HashingEmbedder.DefaultDimensions, generation: 1);
        for (var i = 0; i < 20_000; i++)
        {
            table.Add($"a{i}", 0, i, "feed", [], embedder.Embed(Text(12)));
        }

        double found = 0;
        const int Queries = 50;
        for (var q = 0; q < Queries; q++)
        {
            var query = embedder.Embed(Text(4));
            table.Quantized = false;
            var exact = table.Search(query, new VectorFilter(null, null, null, null), 50);
            table.Quantized = true;
            var quantized = table.Search(query, new VectorFilter(null, null, null, null), 50);

            quantized.Take(10).Should().Equal(exact.Take(10), $"query {q}: same top 10, same exact scores");
            found += quantized.Select(h => h.ChunkId).Intersect(exact.Select(h => h.ChunkId)).Count() / (double)exact.Count;
        }

        (found / Queries).Should().BeGreaterThanOrEqualTo(0.98, "recall@50 of the exact scan");
    }

    [Fact]
    public void The_8_bit_first_pass_applies_the_filters_and_skips_removed_rows()
    {
        var table = new VectorTable(Dims, generation: 1) { Quantized = true };
        var vector = Unit(0);
        table.Add("old", 0, 100, "reuters", ["ACME"], vector);
        table.Add("new", 0, 200, "ft", ["NVLX"], vector);
        table.Add("newer", 0, 300, "ft", ["ACME", "NVLX"], vector);
        table.RemoveArticle("old");

        table.Search(vector, new VectorFilter(null, null, null, null), 10).Select(h => h.ArticleId).Should().Equal("new", "newer");
        table.Search(vector, new VectorFilter(200, 300, null, null), 10).Select(h => h.ArticleId).Should().Equal("new");
        table.Search(vector, new VectorFilter(null, null, ["ACME"], null), 10).Select(h => h.ArticleId).Should().Equal("newer");
        table.Search(vector, new VectorFilter(null, null, null, ["reuters"]), 10).Should().BeEmpty();
        table.Search(Unit(1), new VectorFilter(null, null, null, null), 10).Should().BeEmpty("nothing in common");
    }

    [Theory]
    [InlineData(7)]
    [InlineData(32)]
    [InlineData(100)]
    [InlineData(256)]
    [InlineData(1536)]
    public void Code_dot_products_are_the_same_vectorized_or_not(int length)
    {
        var random = new Random(length);
        var a = Enumerable.Range(0, length).Select(_ => (sbyte)random.Next(-127, 128)).ToArray();
        var b = Enumerable.Range(0, length).Select(_ => (sbyte)random.Next(-127, 128)).ToArray();
        var expected = a.Zip(b, (x, y) => x * y).Sum();

        VectorTable.DotCodes(a, b).Should().Be(expected);
        VectorTable.DotCodes(a, b, vectorized: false).Should().Be(expected);
    }

    [Fact]
    public void Codes_times_their_scale_stay_within_half_a_step_of_each_component()
    {
        var vector = RandomUnit(new Random(3));
        var codes = new sbyte[Dims];

        var scale = VectorTable.Quantize(vector, codes);

        for (var i = 0; i < Dims; i++)
        {
            (codes[i] * scale).Should().BeApproximately(vector[i], (scale / 2) + 1e-6f);
        }

        VectorTable.Quantize(new float[Dims], codes).Should().Be(0f);
        codes.Should().OnlyContain(c => c == 0);
    }

    private static float[] Unit(int axis)
    {
        var vector = new float[Dims];
        vector[axis] = 1;
        return vector;
    }

    private static float[] RandomUnit(Random random)
    {
        var vector = new float[Dims];
        for (var i = 0; i < Dims; i++)
        {
            vector[i] = (float)((random.NextDouble() * 2) - 1);
        }

        TensorPrimitives.Divide(vector, TensorPrimitives.Norm(vector), vector);
        return vector;
    }
}
