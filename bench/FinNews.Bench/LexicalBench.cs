using System.Diagnostics;
using System.Globalization;
using FinNews.Core.Search;
using FinNews.Core.Search.Evaluation;
using Lucene.Net.Analysis;
using Lucene.Net.Analysis.TokenAttributes;
using Lucene.Net.Documents;
using Lucene.Net.Index;
using Lucene.Net.Search;
using Lucene.Net.Search.Similarities;
using Lucene.Net.Store;
using Lucene.Net.Util;
using Microsoft.Data.Sqlite;

namespace FinNews.Bench;

/// <summary>
/// The lexical engines side by side on one synthetic corpus (the <c>hybrid</c> bench's documents and queries): SQLite
/// FTS5 with the shipped query (every word OR-ed) and with capped terms or AND-first, and Lucene.Net 4.8 BM25 with the
/// english analysis, OR-ed and capped. Queries alternate between strategies, so machine load weighs on all alike;
/// each capped strategy reports how many of its top 10 agree with its own engine's uncapped top 10.
/// </summary>
internal static class LexicalBench
{
    private const int Depth = 50; // HybridRanking.CandidateDepth(10)

    public static void Run(int articles, int queries, string directory, double cap)
    {
        System.IO.Directory.CreateDirectory(directory);
        var dbPath = Path.Combine(directory, $"lexical-{articles}.db");
        var lucenePath = Path.Combine(directory, $"lexical-{articles}.lucene");
        var builtMarker = Path.Combine(directory, $"lexical-{articles}.built");
        var reuse = File.Exists(builtMarker);
        if (!reuse)
        {
            foreach (var suffix in new[] { string.Empty, "-wal", "-shm" })
            {
                File.Delete(dbPath + suffix);
            }

            if (System.IO.Directory.Exists(lucenePath))
            {
                System.IO.Directory.Delete(lucenePath, recursive: true);
            }
        }

        Console.WriteLine($"nproc {Environment.ProcessorCount}; loadavg {File.ReadAllText("/proc/loadavg").Trim()}");
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = dbPath }.ToString());
        connection.Open();
        if (!reuse)
        {
            Execute(connection, $"PRAGMA journal_mode = WAL; CREATE VIRTUAL TABLE fts USING fts5 (text, tokenize = '{Fts5Query.Tokenizer}');" +
            "CREATE VIRTUAL TABLE fts_vocab USING fts5vocab (fts, 'row');");
        }

        using var analyzer = new EnglishSearchAnalyzer();
        using var luceneDirectory = new MMapDirectory(new DirectoryInfo(lucenePath));
        var writerConfig = new IndexWriterConfig(LuceneVersion.LUCENE_48, analyzer)
        {
            OpenMode = OpenMode.CREATE,
            Similarity = new BM25Similarity(),
            RAMBufferSizeMB = 128,
        };

        var corpus = new SyntheticCorpus();
        var ftsTime = new Stopwatch();
        var luceneTime = new Stopwatch();
        if (reuse)
        {
            Console.WriteLine($"reusing the {articles:N0}-document indexes in {directory} (delete {builtMarker} to rebuild)");
            corpus.Skip(articles);
        }
        else
        {
            using var writer = new IndexWriter(luceneDirectory, writerConfig);
            var idField = new StringField("id", string.Empty, Field.Store.YES);
            var textField = new TextField("text", string.Empty, Field.Store.NO);
            var document = new Document { idField, textField };
            const int Batch = 50_000;
            for (var start = 0; start < articles; start += Batch)
            {
                var texts = new List<string>(Batch);
                for (var i = start; i < Math.Min(articles, start + Batch); i++)
                {
                    var (title, summary) = corpus.NextDocument();
                    texts.Add(title + ". " + summary);
                }

                ftsTime.Start();
                using (var transaction = connection.BeginTransaction())
                using (var insert = connection.CreateCommand())
                {
                    insert.Transaction = transaction;
                    insert.CommandText = "INSERT INTO fts (rowid, text) VALUES ($id, $text)";
                    var pId = insert.Parameters.Add("$id", SqliteType.Integer);
                    var pText = insert.Parameters.Add("$text", SqliteType.Text);
                    for (var i = 0; i < texts.Count; i++)
                    {
                        pId.Value = start + i;
                        pText.Value = texts[i];
                        insert.ExecuteNonQuery();
                    }

                    transaction.Commit();
                }

                ftsTime.Stop();
                luceneTime.Start();
                for (var i = 0; i < texts.Count; i++)
                {
                    idField.SetStringValue((start + i).ToString(CultureInfo.InvariantCulture));
                    textField.SetStringValue(texts[i]);
                    writer.AddDocument(document);
                }

                luceneTime.Stop();
                if ((start / Batch) % 4 == 0)
                {
                    Console.WriteLine($"  {start + texts.Count:N0} documents");
                }
            }

            ftsTime.Start();
            Execute(connection, "INSERT INTO fts (fts) VALUES ('optimize');"); // FTS5's counterpart of ForceMerge(1)
            ftsTime.Stop();
            luceneTime.Start();
            writer.ForceMerge(1); // what a bulk build ends with; incremental writes leave a few segments instead
            writer.Commit();
            luceneTime.Stop();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"build: fts5 {ftsTime.Elapsed.TotalSeconds:F1} s ({articles / ftsTime.Elapsed.TotalSeconds:F0} docs/s), " +
                $"lucene {luceneTime.Elapsed.TotalSeconds:F1} s ({articles / luceneTime.Elapsed.TotalSeconds:F0} docs/s)"));
            File.WriteAllText(builtMarker, "built");
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"size: fts5 {new FileInfo(dbPath).Length / 1e6:F0} MB, lucene {DirectorySize(lucenePath) / 1e6:F0} MB"));

        using var reader = DirectoryReader.Open(luceneDirectory);
        var searcher = new IndexSearcher(reader) { Similarity = new BM25Similarity() };
        var total = (double)articles;
        var strategies = new (string Name, Func<string, List<string>> Run)[]
        {
            ("fts5: every word OR-ed (shipped)", q => Fts(connection, Fts5Query.Build(q, dropStopWords: true))),
            (string.Create(CultureInfo.InvariantCulture, $"fts5: terms in > {cap:P0} of docs dropped (df from fts5vocab)"), q => Fts(connection, Capped(connection, analyzer, q, cap * total, " OR "))),
            ("fts5: AND of capped terms, OR if < 50 hits", q =>
            {
                var and = Fts(connection, Capped(connection, analyzer, q, cap * total, " AND "));
                return and.Count >= Depth ? and : Fts(connection, Capped(connection, analyzer, q, cap * total, " OR "));
            }),
            ("lucene: every word OR-ed, BM25", q => Lucene(searcher, LuceneQuery(analyzer, searcher.IndexReader, q, double.MaxValue))),
            (string.Create(CultureInfo.InvariantCulture, $"lucene: terms in > {cap:P0} of docs dropped"), q => Lucene(searcher, LuceneQuery(analyzer, searcher.IndexReader, q, cap * total))),
        };

        var texts2 = corpus.Queries(queries + 20);
        foreach (var text in texts2.Take(20))
        {
            foreach (var strategy in strategies)
            {
                strategy.Run(text);
            }
        }

        var times = strategies.Select(_ => new List<double>()).ToArray();
        var agreement = strategies.Select(_ => new List<double>()).ToArray();
        foreach (var text in texts2.Skip(20))
        {
            var results = new List<string>[strategies.Length];
            for (var s = 0; s < strategies.Length; s++)
            {
                var timer = Stopwatch.StartNew();
                results[s] = strategies[s].Run(text);
                times[s].Add(timer.Elapsed.TotalMilliseconds);
            }

            for (var s = 0; s < strategies.Length; s++)
            {
                var reference = results[s < 3 ? 0 : 3];
                agreement[s].Add(Overlap(reference, results[s], 10));
            }
        }

        Console.WriteLine($"loadavg {File.ReadAllText("/proc/loadavg").Trim()}");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{articles:N0} documents, {queries} queries (+20 warm-up), top {Depth}, alternating per query"));
        Console.WriteLine("| strategy | p50 ms | p95 ms | top-10 overlap with its engine's OR-ed ranking |");
        Console.WriteLine("|---|---|---|---|");
        for (var s = 0; s < strategies.Length; s++)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {strategies[s].Name} | {RetrievalMetrics.Percentile(times[s], 50):F1} | {RetrievalMetrics.Percentile(times[s], 95):F1} | {agreement[s].Average():P1} |"));
        }

        var lucene = strategies.Length - 2;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"fts5 (shipped) ÷ lucene (OR) p50: {RetrievalMetrics.Percentile(times[0], 50) / RetrievalMetrics.Percentile(times[lucene], 50):F1}x"));
        SqliteConnection.ClearAllPools();
    }

    private static double Overlap(List<string> reference, List<string> candidate, int k)
    {
        var top = reference.Take(k).ToHashSet(StringComparer.Ordinal);
        return top.Count == 0 ? 1 : candidate.Take(k).Count(top.Contains) / (double)top.Count;
    }

    private static List<string> Fts(SqliteConnection connection, string? match)
    {
        var ids = new List<string>(Depth);
        if (match is null)
        {
            return ids;
        }

        using var command = connection.CreateCommand();
        command.CommandText = "SELECT rowid FROM fts WHERE fts MATCH $match ORDER BY bm25(fts), rowid LIMIT $depth";
        command.Parameters.AddWithValue("$match", match);
        command.Parameters.AddWithValue("$depth", Depth);
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            ids.Add(reader.GetInt64(0).ToString(CultureInfo.InvariantCulture));
        }

        return ids;
    }

    /// <summary>The query's analyzed terms without those in more than <paramref name="maxDf"/> documents (the rarest is always kept).</summary>
    private static string? Capped(SqliteConnection connection, Analyzer analyzer, string text, double maxDf, string joiner)
    {
        var terms = Analyze(analyzer, text);
        if (terms.Count == 0)
        {
            return null;
        }

        var df = new List<(string Term, long Df)>();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT doc FROM fts_vocab WHERE term = $term";
        var p = command.Parameters.Add("$term", SqliteType.Text);
        foreach (var term in terms)
        {
            p.Value = term;
            df.Add((term, command.ExecuteScalar() is long d ? d : 0));
        }

        var kept = df.Where(t => t.Df <= maxDf).Select(t => t.Term).ToList();
        if (kept.Count == 0)
        {
            kept.Add(df.MinBy(t => t.Df).Term);
        }

        return string.Join(joiner, kept.Select(t => $"\"{t}\""));
    }

    private static BooleanQuery LuceneQuery(Analyzer analyzer, IndexReader reader, string text, double maxDf)
    {
        var terms = Analyze(analyzer, text).Select(t => new Term("text", t)).ToList();
        var query = new BooleanQuery();
        var kept = terms.Where(t => reader.DocFreq(t) <= maxDf).ToList();
        if (kept.Count == 0 && terms.Count > 0)
        {
            kept.Add(terms.MinBy(reader.DocFreq)!);
        }

        foreach (var term in kept)
        {
            query.Add(new TermQuery(term), Occur.SHOULD);
        }

        return query;
    }

    private static List<string> Lucene(IndexSearcher searcher, Query query)
    {
        var top = searcher.Search(query, Depth);
        var ids = new List<string>(top.ScoreDocs.Length);
        foreach (var hit in top.ScoreDocs)
        {
            ids.Add(searcher.Doc(hit.Doc).Get("id"));
        }

        return ids;
    }

    private static List<string> Analyze(Analyzer analyzer, string text)
    {
        var terms = new List<string>();
        using var stream = analyzer.GetTokenStream("text", text);
        var term = stream.AddAttribute<ICharTermAttribute>();
        stream.Reset();
        while (stream.IncrementToken())
        {
            var value = term.ToString();
            if (!terms.Contains(value, StringComparer.Ordinal))
            {
                terms.Add(value);
            }
        }

        stream.End();
        return terms;
    }

    private static long DirectorySize(string path) => new DirectoryInfo(path).EnumerateFiles().Sum(f => f.Length);

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
