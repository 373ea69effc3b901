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
