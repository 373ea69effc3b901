namespace FinNews.Bench;

/// <summary>
/// The synthetic corpus of the search benches: one chunk per article (8-word title + 40-word summary), words drawn
/// Zipf-distributed from a seeded 20,000-word vocabulary, and 3-6-word queries from the same distribution. Seeded, so
/// <c>hybrid</c> and <c>lexical</c> index and query identical text run to run.
/// </summary>
internal sealed class SyntheticCorpus
{
    private readonly string[] _vocabulary = Vocabulary(20_000, new Random(1));
    private readonly Zipf _zipf;

    public SyntheticCorpus() => _zipf = new Zipf(_vocabulary.Length, new Random(2));

    /// <summary>The next document's title and summary (call in document order: the stream is shared).</summary>
    public (string Title, string Summary) NextDocument() => (Words(8), Words(40));

    /// <summary>Advances past <paramref name="documents"/> documents without building them (to query an index built earlier).</summary>
    public void Skip(int documents)
    {
        for (var i = 0; i < documents * 48; i++)
        {
            _zipf.Next();
        }
    }

    /// <summary>Query texts, drawn after the documents (as the hybrid bench always has).</summary>
    public List<string> Queries(int count)
    {
        var random = new Random(3);
        return Enumerable.Range(0, count).Select(_ => Words(3 + random.Next(4))).ToList();
    }

    private string Words(int count) => string.Join(' ', Enumerable.Range(0, count).Select(_ => _vocabulary[_zipf.Next()]));

    private static string[] Vocabulary(int size, Random random)
    {
        const string Letters = "abcdefghijklmnopqrstuvwxyz";
        var words = new HashSet<string>(StringComparer.Ordinal);
        while (words.Count < size)
        {
            var length = 3 + random.Next(8);
            words.Add(new string(Enumerable.Range(0, length).Select(_ => Letters[random.Next(Letters.Length)]).ToArray()));
        }

        return [.. words];
    }

    /// <summary>Samples ranks 0..n-1 with probability ∝ 1/(rank+1) (inverse CDF by binary search).</summary>
    private sealed class Zipf
    {
        private readonly double[] _cdf;
        private readonly Random _random;

        public Zipf(int n, Random random)
        {
            _random = random;
            _cdf = new double[n];
            var sum = 0.0;
            for (var i = 0; i < n; i++)
            {
                sum += 1.0 / (i + 1);
                _cdf[i] = sum;
            }

            for (var i = 0; i < n; i++)
            {
                _cdf[i] /= sum;
            }
        }

        public int Next()
        {
            var index = Array.BinarySearch(_cdf, _random.NextDouble());
            return Math.Min(index < 0 ? ~index : index, _cdf.Length - 1);
        }
    }
}
