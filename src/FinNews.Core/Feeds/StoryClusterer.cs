using System.Text.RegularExpressions;

namespace FinNews.Core.Feeds;

/// <summary>A group of articles reporting the same event, usually from several outlets.</summary>
/// <param name="Articles">Members, the representative first.</param>
public sealed record StoryCluster(IReadOnlyList<Article> Articles)
{
    /// <summary>The article whose text stands for the story: the earliest with the fullest summary.</summary>
    public Article Representative => Articles[0];

    /// <summary>Distinct outlets that carried the story.</summary>
    public IReadOnlyList<string> Outlets => Articles.Select(a => a.Outlet).Distinct(StringComparer.Ordinal).ToList();

    /// <summary>The watchlist symbol this story was retrieved for, when a section picked it for one company.</summary>
    public string? Focus { get; init; }

    /// <summary>Tickers mentioned by any member.</summary>
    public IReadOnlyList<string> Tickers => Articles.SelectMany(a => a.Tickers).Distinct(StringComparer.Ordinal).ToList();
}

/// <summary>
/// Groups near-duplicate articles across outlets: weighted Jaccard similarity over content words, figures and tickers
/// of title and summary, joined transitively (single link) within a time span.
/// </summary>
/// <remarks>
/// Wire copies of one event share its figures (3.2%, $4.1bn), its names and its tickers even when the wording differs,
/// so those features weigh more than ordinary words.
/// </remarks>
public sealed partial class StoryClusterer
{
    private static readonly HashSet<string> Stopwords = new(StringComparer.Ordinal)
    {
        "the", "and", "for", "with", "that", "this", "from", "its", "was", "were", "are", "has", "have", "had", "will",
        "would", "said", "says", "say", "after", "before", "over", "into", "than", "but", "not", "their", "they", "them",
        "his", "her", "she", "him", "which", "who", "whom", "what", "when", "where", "while", "about", "also", "been",
        "being", "more", "most", "some", "such", "other", "only", "new", "per", "cent", "percent", "year", "quarter",
        "company", "shares", "stock", "stocks", "friday", "thursday", "monday", "tuesday", "wednesday", "today",
        "yesterday", "according", "reported", "reports", "report", "analysts", "expected", "on", "in", "at", "to", "of",
        "an", "as", "by", "it", "is", "be", "or", "up", "down", "out", "than", "all", "one", "two", "three",
    };

    // A feature shared by more articles than this (a common word in a busy window) is not used to find candidates.
    private const int MaxPosting = 400;

    private readonly double _threshold;
    private readonly TimeSpan _span;

    /// <param name="threshold">Minimum weighted Jaccard similarity (0..1) for two articles to be the same story.</param>
    /// <param name="span">Maximum publication-time distance between two linked articles.</param>
    public StoryClusterer(double threshold = 0.22, TimeSpan? span = null)
    {
        if (threshold is <= 0 or > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "Story cluster threshold must be in (0, 1].");
        }

        _threshold = threshold;
        _span = span ?? TimeSpan.FromHours(36);
    }

    /// <summary>A stable id for a cluster: its earliest member's id, which later arrivals do not change.</summary>
    public static string ClusterId(StoryCluster cluster) =>
        "s-" + cluster.Articles.OrderBy(a => a.PublishedAt).ThenBy(a => a.Id, StringComparer.Ordinal).First().Id;

    /// <summary>Clusters articles; clusters ordered by outlet count, then recency.</summary>
    /// <remarks>
    /// Pairs above the threshold are joined strongest first, and two groups join only when their centroids are still
    /// alike (<see cref="GroupFactor"/> of the threshold): articles that share only a name ("Donald
    /// Trump") and the day's theme ("inauguration") no longer chain five events into one story, while the copies of
    /// one event, which all share its specifics, still meet.
    /// </remarks>
    public IReadOnlyList<StoryCluster> Cluster(IReadOnlyList<Article> articles)
    {
        ArgumentNullException.ThrowIfNull(articles);
        var features = articles.Select(Features).ToArray();
        WeighByRarity(features);
        var parent = Enumerable.Range(0, articles.Count).ToArray();
        int Find(int i)
        {
            while (parent[i] != i)
            {
                parent[i] = parent[parent[i]];
                i = parent[i];
            }

            return i;
        }

        var pairs = CandidatePairs(articles, features);

        // Each group keeps the sum of its members' feature weights: its centroid is that sum over its size, and two
        // groups join only when their centroids are alike (centroid linkage, a cheap stand-in for average linkage).
        var sums = features.Select(f => new Dictionary<string, double>(f, StringComparer.Ordinal)).ToArray();
        var sizes = Enumerable.Repeat(1, articles.Count).ToArray();
        foreach (var (i, j, _) in pairs.OrderByDescending(p => p.Similarity).ThenBy(p => p.I).ThenBy(p => p.J))
        {
            int a = Find(i), b = Find(j);
            if (a == b)
            {
                continue;
            }

            if (sizes[a] + sizes[b] > 2 && Similarity(sums[a], 1.0 / sizes[a], sums[b], 1.0 / sizes[b]) < _threshold * GroupFactor)
            {
                continue;
            }

            if (sizes[a] > sizes[b])
            {
                (a, b) = (b, a);
            }

            parent[a] = b;
            sizes[b] += sizes[a];
            foreach (var (key, weight) in sums[a])
            {
                sums[b][key] = sums[b].GetValueOrDefault(key) + weight;
            }

            sums[a].Clear();
        }

        return Enumerable.Range(0, articles.Count)
            .GroupBy(Find)
            .Select(g => new StoryCluster(g.Select(i => articles[i])
                .OrderByDescending(a => a.Summary.Length > 80)
                .ThenBy(a => a.PublishedAt)
                .ThenBy(a => a.Id, StringComparer.Ordinal)
                .ToList()))
            .OrderByDescending(c => c.Outlets.Count)
            .ThenByDescending(c => c.Articles.Max(a => a.PublishedAt))
            .ThenBy(c => c.Representative.Id, StringComparer.Ordinal)
            .ToList();
    }

    // A feature carried by many articles of the window (the day's main name, its theme) tells less about which event an
    // article reports than one carried by a few: weights scale by BM25's idf relative to a feature seen once.
    private static void WeighByRarity(Dictionary<string, double>[] features)
    {
        var n = features.Length;
        var df = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var f in features)
        {
            foreach (var key in f.Keys)
            {
                df[key] = df.GetValueOrDefault(key) + 1;
            }
        }

        double Idf(int count) => Math.Log(1 + ((n - count + 0.5) / (count + 0.5)));
        var unique = Idf(1);
        if (n < 3 || unique <= 0)
        {
            return;
        }

        foreach (var f in features)
        {
            foreach (var key in f.Keys.ToList())
            {
                f[key] *= Math.Max(0.05, Idf(df[key]) / unique);
            }
        }
    }

    /// <summary>
    /// Every pair within the time span whose weighted Jaccard similarity reaches the threshold. Candidates come from an
    /// inverted index over the features, skipping features so common they say nothing (in more than MaxPosting
    /// articles): for each article the shared weight (the sum of minima) with every other is accumulated in one array
    /// pass over its features' postings, so the similarity I / (Wa + Wb - I) needs no per-pair dictionary work; the
    /// skipped common features are added back for the candidates only.
    /// </summary>
    private List<(int I, int J, double Similarity)> CandidatePairs(IReadOnlyList<Article> articles, Dictionary<string, double>[] features)
    {
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        var names = new List<string>();
        var postings = new List<List<(int Article, double Weight)>>();
        var vectors = new (int Feature, double Weight)[features.Length][];
        var totals = new double[features.Length];
        for (var i = 0; i < features.Length; i++)
        {
            var vector = new (int, double)[features[i].Count];
            var k = 0;
            foreach (var (key, weight) in features[i])
            {
                if (!ids.TryGetValue(key, out var id))
                {
                    ids[key] = id = postings.Count;
                    names.Add(key);
                    postings.Add([]);
                }

                postings[id].Add((i, weight));
                vector[k++] = (id, weight);
                totals[i] += weight;
            }

            vectors[i] = vector;
        }

        var shared = new double[features.Length];
        var touched = new List<int>();
        var pairs = new List<(int I, int J, double Similarity)>();
        for (var i = 0; i < vectors.Length; i++)
        {
            List<(int Feature, double Weight)>? common = null;
            foreach (var (feature, weight) in vectors[i])
            {
                var posting = postings[feature];
                if (posting.Count > MaxPosting)
                {
                    (common ??= []).Add((feature, weight));
                    continue;
                }

                // Postings are in article order: only later articles, so each pair is seen from its first member.
                for (var p = posting.Count - 1; p >= 0 && posting[p].Article > i; p--)
                {
                    var (j, other) = posting[p];
                    if (shared[j] == 0)
                    {
                        touched.Add(j);
                    }

                    shared[j] += Math.Min(weight, other);
                }
            }

            foreach (var j in touched)
            {
                var intersection = shared[j];
                shared[j] = 0;
                if ((articles[i].PublishedAt - articles[j].PublishedAt).Duration() > _span)
                {
                    continue;
                }

                if (common is not null)
                {
                    foreach (var (feature, weight) in common)
                    {
                        if (features[j].TryGetValue(names[feature], out var other))
                        {
                            intersection += Math.Min(weight, other);
                        }
                    }
                }

                var similarity = intersection / (totals[i] + totals[j] - intersection);
                if (similarity >= _threshold)
                {
                    pairs.Add((i, j, similarity));
                }
            }

            touched.Clear();
        }

        return pairs;
    }

    /// <summary>Two groups join only if their centroids' similarity is at least this share of the threshold.</summary>
    public const double GroupFactor = 0.75;

    /// <summary>Weighted Jaccard similarity of two articles (0..1), exposed for tuning and tests.</summary>
    public static double Similarity(Article a, Article b) => Similarity(Features(a), Features(b));

    private static double Similarity(Dictionary<string, double> a, Dictionary<string, double> b) => Similarity(a, 1, b, 1);

    // Weighted Jaccard of two weight vectors, each scaled (a group's sum scaled by 1/size is its centroid).
    private static double Similarity(Dictionary<string, double> a, double scaleA, Dictionary<string, double> b, double scaleB)
    {
        if (a.Count == 0 || b.Count == 0)
        {
            return 0;
        }

        double intersection = 0, union = 0;
        foreach (var (key, raw) in a)
        {
            var wa = raw * scaleA;
            if (b.TryGetValue(key, out var other))
            {
                var wb = other * scaleB;
                intersection += Math.Min(wa, wb);
                union += Math.Max(wa, wb);
            }
            else
            {
                union += wa;
            }
        }

        foreach (var (key, wb) in b)
        {
            if (!a.ContainsKey(key))
            {
                union += wb * scaleB;
            }
        }

        return union > 0 ? intersection / union : 0;
    }

    private static Dictionary<string, double> Features(Article a)
    {
        var text = $"{a.Title} {ArticleNormalizer.Lead(a.Summary, 600)}";
        var features = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (Match m in Figure().Matches(text))
        {
            var value = m.Value.Replace(",", "", StringComparison.Ordinal).TrimEnd('.');
            if (value.Length > 0 && !(value.Length == 4 && value.StartsWith("20", StringComparison.Ordinal)))
            {
                features["#" + value] = 2.0;
            }
        }

        foreach (var t in a.Tickers)
        {
            features["$" + t] = 2.5;
        }

        foreach (Match m in Word().Matches(text))
        {
            var w = m.Value.ToLowerInvariant();
            if (w.Length < 3 || Stopwords.Contains(w))
            {
                continue;
            }

            // A crude stem: "acquires"/"acquisition" and "cuts"/"cutting" meet on their first five letters.
            var stem = w.Length > 5 ? w[..5] : w;
            var weight = char.IsUpper(m.Value[0]) ? 1.5 : 1.0;
            features[stem] = Math.Max(features.GetValueOrDefault(stem), weight);
        }

        return features;
    }

    [GeneratedRegex(@"\d[\d,]*(\.\d+)?")]
    private static partial Regex Figure();

    [GeneratedRegex(@"\p{L}[\p{L}'’]+")]
    private static partial Regex Word();
}
