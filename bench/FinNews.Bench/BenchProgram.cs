using System.Globalization;
using FinNews.Core.Search;
using FinNews.Core.Search.Evaluation;

namespace FinNews.Bench;

/// <summary>Command dispatch for the benchmark console.</summary>
internal static class BenchProgram
{
    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length == 0)
        {
            Console.WriteLine(Usage);
            return 2;
        }

        var options = Options.Parse(args.Skip(1));
        switch (args[0])
        {
            case "eval":
                await EvalAsync(options);
                return 0;
            case "scan":
                ScanBench.Run(
                    int.Parse(options.Get("rows") ?? "1000000", CultureInfo.InvariantCulture),
                    int.Parse(options.Get("dims") ?? "100", CultureInfo.InvariantCulture),
                    int.Parse(options.Get("queries") ?? "200", CultureInfo.InvariantCulture),
                    int.Parse(options.Get("warmup") ?? "20", CultureInfo.InvariantCulture));
                return 0;
            case "hybrid":
                await HybridBench.RunAsync(
                    int.Parse(options.Get("articles") ?? "100000", CultureInfo.InvariantCulture),
                    int.Parse(options.Get("queries") ?? "200", CultureInfo.InvariantCulture),
                    options.Get("dir") ?? Path.Combine(Path.GetTempPath(), "finnews-bench"),
                    options.Get("reuse") is "true");
                return 0;
            case "lexical":
                LexicalBench.Run(
                    int.Parse(options.Get("articles") ?? "1000000", CultureInfo.InvariantCulture),
                    int.Parse(options.Get("queries") ?? "200", CultureInfo.InvariantCulture),
                    options.Get("dir") ?? Path.Combine(Path.GetTempPath(), "finnews-bench-lexical"),
                    double.Parse(options.Get("cap") ?? "0.1", CultureInfo.InvariantCulture));
                return 0;
            case "es":
                await EsBench.RunAsync(
                    int.Parse(options.Get("documents") ?? "10000", CultureInfo.InvariantCulture),
                    int.Parse(options.Get("queries") ?? "200", CultureInfo.InvariantCulture));
                return 0;
            case "parse":
                ParseBench.Run(
                    int.Parse(options.Get("runs") ?? "20", CultureInfo.InvariantCulture),
                    int.Parse(options.Get("warmup") ?? "5", CultureInfo.InvariantCulture),
                    options.Get("folder"));
                return 0;
            case "peers":
                PeersBench.Run(options.Get("list") ?? throw new ArgumentException("--list FILE (one feed path per line) is required"),
                    options.Get("probe") is not null,
                    int.Parse(options.Get("runs") ?? "10", CultureInfo.InvariantCulture),
                    int.Parse(options.Get("warmup") ?? "3", CultureInfo.InvariantCulture));
                return 0;
            case "phases":
                PeersBench.Phases(options.Get("list") ?? throw new ArgumentException("--list FILE is required"), int.Parse(options.Get("runs") ?? "10", CultureInfo.InvariantCulture));
                return 0;
            case "conformance":
                PeersBench.Conformance(options.Get("folder"));
                return 0;
            case "ingest":
                await IngestBench.RunAsync(
                    int.Parse(options.Get("items") ?? "100000", CultureInfo.InvariantCulture),
                    int.Parse(options.Get("feeds") ?? "100", CultureInfo.InvariantCulture),
                    options.Get("dir") ?? Path.Combine(Path.GetTempPath(), "finnews-bench-ingest"),
                    options.Get("pipeline") ?? "app");
                return 0;
            case "stores":
                StoreBench.Run(
                    int.Parse(options.Get("items") ?? "20000", CultureInfo.InvariantCulture),
                    int.Parse(options.Get("feeds") ?? "40", CultureInfo.InvariantCulture),
                    int.Parse(options.Get("rounds") ?? "3", CultureInfo.InvariantCulture),
                    options.Get("dir") ?? Path.Combine(Path.GetTempPath(), "finnews-bench-stores"));
                return 0;
            case "cluster":
                await ClusterBench.RunAsync(
                    int.Parse(options.Get("feeds") ?? "100", CultureInfo.InvariantCulture),
                    int.Parse(options.Get("items") ?? "100", CultureInfo.InvariantCulture),
                    int.Parse(options.Get("rounds") ?? "3", CultureInfo.InvariantCulture),
                    int.Parse(options.Get("hosts") ?? "10", CultureInfo.InvariantCulture),
                    options.Get("dir") ?? Path.Combine(Path.GetTempPath(), "finnews-bench-cluster"),
                    options.Get("finnews"),
                    options.Get("configs") ?? "sqlite:1,postgres:1,postgres:2");
                return 0;
            case "writer":
                await WriterBench.RunAsync(int.Parse(options.Get("runs") ?? "200", CultureInfo.InvariantCulture),
                    options.Get("dir") ?? Path.Combine(Path.GetTempPath(), "finnews-bench-writer"));
                return 0;
            case "ask":
                await AskBench.RunAsync(int.Parse(options.Get("runs") ?? "20", CultureInfo.InvariantCulture),
                    options.Get("dir") ?? Path.Combine(Path.GetTempPath(), "finnews-bench-ask"));
                return 0;
            case "scan-bdn":
                BenchmarkDotNet.Running.BenchmarkRunner.Run<ScanBenchmark>();
                return 0;
            case "tune-fusion":
                await FusionTuning.RunAsync(options.Get("folder") ?? throw new ArgumentException("--folder is required"),
                    options.Get("embedder") ?? HashingEmbedder.ProviderName, options.Get("glove"),
                    int.Parse(options.Get("abtt") ?? GloveEmbedder.DefaultRemovedComponents.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture),
                    Numbers(options.Get("weights")), Numbers(options.Get("floors")),
                    options.Get("fusions")?.Split(',').Select(f => FusionSettings.TryParseFusion(f, out var parsed) ? parsed : throw new ArgumentException($"unknown fusion '{f}'")).ToArray());
                return 0;
            case "fusion-lab":
                await FusionLab.RunAsync(options.Get("folder") ?? throw new ArgumentException("--folder is required"),
                    options.Get("embedder") ?? HashingEmbedder.ProviderName, options.Get("glove"),
                    int.Parse(options.Get("abtt") ?? GloveEmbedder.DefaultRemovedComponents.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture));
                return 0;
            case "install-glove":
#pragma warning disable RS0030 // The bench's own composition root: the manifest records the real install time.
                var result = await GloveInstaller.InstallAsync(options.Get("data") ?? "/tmp/finnews-models", TimeProvider.System, log: Console.WriteLine);
#pragma warning restore RS0030
                Console.WriteLine(result);
                return 0;
            default:
                Console.WriteLine(Usage);
                return 2;
        }
    }

    private static double[]? Numbers(string? list) =>
        list?.Split(',').Select(x => double.Parse(x, CultureInfo.InvariantCulture)).ToArray();

    private const string Usage = """
        usage: FinNews.Bench <command> [--key value ...]
          scan   [--rows 1000000] [--dims 100] [--queries 200] [--warmup 20]
          hybrid [--articles 100000] [--queries 200] [--dir /tmp/finnews-bench] [--reuse true]   (reuse: keep a database of the same size from an earlier run)
          lexical [--articles 1000000] [--queries 200] [--cap 0.1] [--dir /tmp/finnews-bench-lexical]   (FTS5 strategies vs Lucene.Net, alternating)
          es     [--documents 10000] [--queries 200]   (Elasticsearch client: requests and bytes per 10k docs and per query, fusion cost)
          parse  [--runs 20] [--warmup 5] [--folder ../shared/corpora/feeds]
          peers  --list FILE [--probe true] [--runs 10] [--warmup 3]   (FeedParser and CodeHollow.FeedReader; see bench/peers/run.sh)
          conformance [--folder ../shared/corpora/feeds]   (FeedParser vs FeedReader against rss-parser's recorded outputs)
          ingest [--items 100000] [--feeds 100] [--dir /tmp/finnews-bench-ingest] [--pipeline app|sequential]   (the dir is deleted first)
          stores [--items 20000] [--feeds 40] [--rounds 3]   (ingest store phase on SQLite and PostgreSQL side by side; needs FINNEWS_POSTGRES_CONNECTION)
          cluster [--feeds 100] [--items 100] [--rounds 3] [--hosts 10] [--configs sqlite:1,postgres:1,postgres:2] [--finnews PATH]
                 (real `finnews worker` processes ingesting loopback RSS: 1 worker on SQLite, 1 and 2 on PostgreSQL; needs FINNEWS_POSTGRES_CONNECTION and a built src/FinNews)
          writer [--runs 200] [--dir /tmp/finnews-bench-writer]   (exact prompt tokens per section, validator time, the kernel writer against a loopback endpoint)
          ask    [--runs 20] [--dir /tmp/finnews-bench-ask]         (per question: tool calls, model calls, counted tokens, latency; extractive beside it)
          scan-bdn                         (BenchmarkDotNet version of scan, 1M × 100-d)
          install-glove [--data DIR]      (default /tmp/finnews-models)
          tune-fusion --folder DIR [--embedder hashing|arctic|glove] [--glove FILE] [--abtt N] [--weights 0.4,0.5] [--floors 0.5,0.6] [--fusions convex,rrf]   (fusion grid chosen on even-position queries, reported on odd ones)
          eval   --folder DIR [--embedder hashing|glove] [--glove FILE] [--abtt N] [--fusion rrf|convex] [--weight 0.5] [--floor 0.25] [--modes lexical,vector,hybrid] [--queries N --docs N] [--json FILE]
        """;

    private static async Task EvalAsync(Options options)
    {
        var folder = options.Get("folder") ?? throw new ArgumentException("--folder is required");
        var dataset = BeirDataset.Load(folder);
        if (options.Get("queries") is { } q)
        {
            dataset = dataset.Subset(int.Parse(q, CultureInfo.InvariantCulture), int.Parse(options.Get("docs") ?? "1000000", CultureInfo.InvariantCulture));
        }

        // Anything not given on the command line keeps the library default, so a bare run measures what ships.
        var defaults = SqliteSearchIndexOptions.DefaultsFor(options.Get("embedder") ?? HashingEmbedder.ProviderName);
        var indexOptions = defaults with
        {
            VectorFloor = options.Get("floor") is { } floor ? double.Parse(floor, CultureInfo.InvariantCulture) : defaults.VectorFloor,
            Fusion = options.Get("fusion") switch
            {
                null => defaults.Fusion,
                "convex" => HybridFusion.Convex,
                "rrf" => HybridFusion.ReciprocalRank,
                var other => throw new ArgumentException($"unknown fusion '{other}' (rrf, convex)"),
            },
            VectorWeight = options.Get("weight") is { } weight ? double.Parse(weight, CultureInfo.InvariantCulture) : defaults.VectorWeight,
        };
        var embedderName = options.Get("embedder") ?? HashingEmbedder.ProviderName;
        var report = await RetrievalEvaluator.EvaluateAsync(
            dataset,
            Embedders.Create(embedderName, options.Get("glove"), int.Parse(options.Get("abtt") ?? "2", CultureInfo.InvariantCulture)),
            embedderName,
            new RetrievalEvaluationOptions
            {
                Index = indexOptions,
                Modes = options.Get("modes") is { } modes
                    ? modes.Split(',').Select(m => Enum.Parse<SearchMode>(m, ignoreCase: true)).ToList()
                    : [SearchMode.Lexical, SearchMode.Vector, SearchMode.Hybrid],
            });
        Console.WriteLine($"lexical='{LuceneLexicalIndex.Description}' fusion={indexOptions.Fusion} weight={indexOptions.VectorWeight} floor={indexOptions.VectorFloor}");
        Console.Write(report.ToTable());
        if (options.Get("json") is { } jsonPath)
        {
            await File.WriteAllTextAsync(jsonPath, report.ToJson());
        }
    }
}

/// <summary><c>--key value</c> pairs.</summary>
internal sealed class Options
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);

    public static Options Parse(IEnumerable<string> args)
    {
        var options = new Options();
        string? key = null;
        foreach (var arg in args)
        {
            if (arg.StartsWith("--", StringComparison.Ordinal))
            {
                key = arg[2..];
                options._values[key] = "true";
            }
            else if (key is not null)
            {
                options._values[key] = arg;
                key = null;
            }
        }

        return options;
    }

    public string? Get(string key) => _values.GetValueOrDefault(key);
}
