using FinNews.Core.Search;
using FinNews.Core.Search.Evaluation;
using Microsoft.Data.Sqlite;

namespace FinNews.Bench;

/// <summary>Experiment: fusion variants over one BEIR set, in memory, per article (every scifact doc is one chunk).</summary>
internal static class FusionLab
{
    public static async Task RunAsync(string folder, string embedderName, string? glovePath, int removedComponents)
    {
        Console.WriteLine(RepoPaths.Machine());
        var dataset = BeirDataset.Load(folder);
        var tune = dataset.Queries.Where((_, i) => i % 2 == 0).Select(q => q.Id).ToHashSet();
        var embedder = Embedders.Create(embedderName, glovePath, removedComponents);

        var docIds = dataset.Corpus.Select(d => d.Id).ToList();
        var docTexts = dataset.Corpus.Select(d => Chunker.Chunk(RetrievalEvaluator.ToArticle(d))[0].Text).ToList();
        var embedWatch = System.Diagnostics.Stopwatch.StartNew();
        var docVecs = (await embedder.GenerateAsync(docTexts)).Select(e => Normalize(e.Vector.ToArray())).ToArray();
        Console.WriteLine(FormattableString.Invariant($"embedded {docTexts.Count} documents in {embedWatch.Elapsed.TotalSeconds:F1} s"));
        var docIndex = docIds.Select((id, i) => (id, i)).ToDictionary(x => x.id, x => x.i, StringComparer.Ordinal);

        var directory = Path.Combine(Path.GetTempPath(), "finnews-lab-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var connectionString = new SqliteConnectionStringBuilder { DataSource = Path.Combine(directory, "lab.db"), Pooling = false }.ToString();
        var lexicalLists = new Dictionary<string, List<(string Id, double Score)>>();
        var queryVecs = new Dictionary<string, float[]>();
        try
        {
            // Only the lexical ranking is read from the index, so it is built with the cheap embedder.
            var hashing = new HashingEmbedder();
            using (var build = new SqliteSearchIndex(connectionString, hashing, HashingEmbedder.ProviderName))
            {
                foreach (var batch in dataset.Corpus.Chunk(512))
                {
                    await build.IndexAsync(batch.Select(RetrievalEvaluator.ToArticle).ToList());
                }
            }

            using var index = new SqliteSearchIndex(connectionString, hashing, HashingEmbedder.ProviderName);
            foreach (var query in dataset.Queries)
            {
                var hits = await index.SearchAsync(new SearchQuery(query.Text, SearchMode.Lexical, RetrievalEvaluator.Depth));
                lexicalLists[query.Id] = hits.Select(h => (h.ArticleId, h.Score)).ToList();
                queryVecs[query.Id] = Normalize((await embedder.GenerateAsync([query.Text], EmbeddingInput.Query))[0].Vector.ToArray());
            }
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }

        var cosines = new Dictionary<string, double[]>();
        foreach (var query in dataset.Queries)
        {
            var q = queryVecs[query.Id];
            cosines[query.Id] = docVecs.Select(d => (double)Dot(q, d)).ToArray();
        }

        double Score(Func<BeirQuery, List<string>> rank, bool tuneHalf) => dataset.Queries
            .Where(q => tune.Contains(q.Id) == tuneHalf)
            .Average(q => RetrievalMetrics.NdcgAt(rank(q), dataset.Qrels[q.Id], 10));

        void Report(string label, Func<BeirQuery, List<string>> rank)
        {
            var t = Score(rank, true);
            var h = Score(rank, false);
            Console.WriteLine(FormattableString.Invariant($"{label,-60} tune {t:F4} held {h:F4} all {(t + h) / 2:F4}"));
        }

        List<string> Lexical(BeirQuery q) => lexicalLists[q.Id].Select(x => x.Id).ToList();
        List<string> VectorTop(BeirQuery q, int k) => Enumerable.Range(0, docIds.Count).OrderByDescending(i => cosines[q.Id][i]).Take(k).Select(i => docIds[i]).ToList();
        Report("lexical", Lexical);
        Report("vector", q => VectorTop(q, 100));

        // V0: the shipped convex mix: min-max each list (lexical 100 articles, vector top depth), missing = 0, floor.
        foreach (var w in new[] { 0.1, 0.15, 0.2 })
        {
            foreach (var floor in new[] { 0.25, 0.5 })
            {
                Report($"V0 shipped-like convex w {w} floor {floor}", q => Convex(q, w, floor, exactForAll: false, 500));
            }
        }

        // V1: exact cosine for every candidate of either list.
        foreach (var w in new[] { 0.1, 0.15, 0.2, 0.25, 0.3, 0.4 })
        {
            foreach (var floor in new[] { 0.0, 0.25, 0.5, 1.0 })
            {
                Report($"V1 exact-for-all convex w {w} floor {floor}", q => Convex(q, w, floor, exactForAll: true, 500));
            }
        }

        // V2: rocchio: query vector + beta × mean of top-m lexical docs' vectors, exact for all, no vector-only hits.
        foreach (var m in new[] { 3, 5, 10 })
        {
            foreach (var beta in new[] { 0.5, 1.0, 2.0 })
            {
                foreach (var w in new[] { 0.1, 0.2, 0.3, 0.4 })
                {
                    Report($"V2 rocchio m {m} beta {beta} w {w}", q => Rocchio(q, m, beta, w));
                }
            }
        }

        List<string> Convex(BeirQuery q, double w, double floor, bool exactForAll, int vectorDepth)
        {
            var lex = lexicalLists[q.Id];
            var cos = cosines[q.Id];
            var vec = Enumerable.Range(0, docIds.Count).OrderByDescending(i => cos[i]).Take(vectorDepth)
                .Where(i => cos[i] >= floor).Select(i => (Id: docIds[i], Score: cos[i])).ToList();
            var lexMax = lex.Count > 0 ? lex.Max(x => x.Score) : 1;
            var lexMin = lex.Count > 0 ? lex.Min(x => x.Score) : 0;
            var scores = new Dictionary<string, double>(StringComparer.Ordinal);
            foreach (var (id, s) in lex)
            {
                scores[id] = (1 - w) * (lexMax > lexMin ? (s - lexMin) / (lexMax - lexMin) : 1);
            }

            if (exactForAll)
            {
                var union = lex.Select(x => x.Id).Concat(vec.Select(x => x.Id)).Distinct().ToList();
                var all = union.Select(id => (Id: id, Score: cos[docIndex[id]])).ToList();
                var max = all.Max(x => x.Score);
                var min = all.Min(x => x.Score);
                foreach (var (id, s) in all)
                {
                    scores[id] = scores.GetValueOrDefault(id) + (w * (max > min ? (s - min) / (max - min) : 1));
                }
            }
            else if (vec.Count > 0)
            {
                var max = vec.Max(x => x.Score);
                var min = vec.Min(x => x.Score);
                foreach (var (id, s) in vec)
                {
                    scores[id] = scores.GetValueOrDefault(id) + (w * (max > min ? (s - min) / (max - min) : 1));
                }
            }

            return scores.OrderByDescending(p => p.Value).Select(p => p.Key).Take(100).ToList();
        }

        List<string> Rocchio(BeirQuery q, int m, double beta, double w)
        {
            var lex = lexicalLists[q.Id];
            var qv = (float[])queryVecs[q.Id].Clone();
            var top = lex.Take(m).ToList();
            foreach (var (id, _) in top)
            {
                var d = docVecs[docIndex[id]];
                for (var i = 0; i < qv.Length; i++)
                {
                    qv[i] += (float)(beta / top.Count) * d[i];
                }
            }

            qv = Normalize(qv);
            var all = lex.Select(x => (x.Id, Score: (double)Dot(qv, docVecs[docIndex[x.Id]]))).ToList();
            var lexMax = lex.Count > 0 ? lex.Max(x => x.Score) : 1;
            var lexMin = lex.Count > 0 ? lex.Min(x => x.Score) : 0;
            var max = all.Count > 0 ? all.Max(x => x.Score) : 1;
            var min = all.Count > 0 ? all.Min(x => x.Score) : 0;
            return lex.Select((x, i) => (x.Id, S: ((1 - w) * (lexMax > lexMin ? (x.Score - lexMin) / (lexMax - lexMin) : 1)) + (w * (max > min ? (all[i].Score - min) / (max - min) : 1))))
                .OrderByDescending(x => x.S).Select(x => x.Id).ToList();
        }
    }

    private static float[] Normalize(float[] v)
    {
        var n = MathF.Sqrt(Dot(v, v));
        if (n > 0)
        {
            for (var i = 0; i < v.Length; i++)
            {
                v[i] /= n;
            }
        }

        return v;
    }

    private static float Dot(float[] a, float[] b) => System.Numerics.Tensors.TensorPrimitives.Dot(a, b);
}
