using FinNews.Core;
using FinNews.Core.Briefing;
using FinNews.Core.Feeds;
using FinNews.Core.Market;
using FinNews.Core.Models;
using FinNews.Core.Search;
using FinNews.Core.Search.Elasticsearch;
using FinNews.Jobs;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Serilog;

namespace FinNews.Hosting;

/// <summary>Registration of every FinNews capability: one method per concern, called from Program.</summary>
public static class FinNewsServices
{
    /// <summary>Configuration sources: config/appsettings.json, then FINNEWS_* environment variables; the host's clock.</summary>
    public static void AddFinNewsConfiguration(this IHostApplicationBuilder builder, AppPaths paths, TimeProvider time)
    {
        builder.Services.AddSingleton(time);
        builder.Configuration.AddJsonFile(Path.Combine(paths.ConfigDirectory, "appsettings.json"), optional: false, reloadOnChange: false);
        builder.Configuration.AddEnvironmentVariables("FINNEWS_");
        builder.Services.AddSingleton(paths);
    }

    /// <summary>Serilog from the "Serilog" section; relative sink paths resolve against the data folder's parent.</summary>
    public static void AddFinNewsLogging(this IHostApplicationBuilder builder, AppPaths paths)
    {
        foreach (var sink in builder.Configuration.GetSection("Serilog:WriteTo").GetChildren())
        {
            var key = $"{sink.Path}:Args:path";
            if (builder.Configuration[key] is { } path && !Path.IsPathRooted(path))
            {
                builder.Configuration[key] = paths.FromRoot(path);
            }
        }

        builder.Logging.ClearProviders();
        var logger = new LoggerConfiguration().ReadFrom.Configuration(builder.Configuration).CreateLogger();
        builder.Logging.AddSerilog(logger, dispose: true);
        // For Serilog's request logging (web hosts): the same logger, and the context it adds request properties to.
        // Registered as instances, so the container does not dispose them (the logging provider owns the logger).
        builder.Services.AddSingleton<Serilog.ILogger>(logger);
        var diagnostics = new Serilog.Extensions.Hosting.DiagnosticContext(logger);
        builder.Services.AddSingleton(diagnostics);
        builder.Services.AddSingleton<IDiagnosticContext>(diagnostics);
    }

    /// <summary>Options bound and validated on start.</summary>
    public static void AddFinNewsOptions(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<FinNewsOptionsValidator>();
        Bind<FinNewsOptions>(builder, "FinNews");
        Bind<WebOptions>(builder, "Web");
        Bind<SchedulerOptions>(builder, "Scheduler");
        Bind<SearchOptions>(builder, "Search");
        Bind<BriefingOptions>(builder, "Briefing");
        Bind<FetchOptions>(builder, "Ingest");
        Bind<MarketOptions>(builder, "Market");
        Bind<PollOptions>(builder, "Polling");
        builder.Services.AddOptions<TelemetryOptions>().BindConfiguration("Telemetry");
        builder.Services.AddOptions<FinNews.Core.Access.AuthOptions>().BindConfiguration("Auth");
    }

    /// <summary>Storage, feeds, search, market data and briefings.</summary>
    public static void AddFinNewsCore(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        builder.AddFinNewsStorage();
        services.AddSingleton(sp => new FeedCatalog(sp.GetRequiredService<AppPaths>().FromConfig(Value<FinNewsOptions>(sp).FeedsFile),
            sp.GetRequiredService<IFeedStore>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<FeedCatalog>>()));
        // Hosts that start (run, serve, worker) seed the feed list from config/feeds.json first: a bad file stops the start.
        services.AddHostedService<FeedCatalogSeeder>();
        services.AddSingleton(sp => Watchlist.Load(sp.GetRequiredService<AppPaths>().FromConfig(Value<FinNewsOptions>(sp).WatchlistFile)));
        services.AddSingleton(sp => new TickerTagger(sp.GetRequiredService<Watchlist>()));
        services.AddSingleton<ArticleNormalizer>();
        // Every outbound feed and market-data request goes through the SSRF guard (feeds marked internal excepted).
        // TryAdd: tests that serve "public" feeds from loopback register their own client first.
        services.TryAddSingleton(sp => new HttpClient(FeedFetcher.CreateHandler(new SsrfGuard())) { Timeout = Timeout.InfiniteTimeSpan });
        services.AddSingleton(sp => new FeedPollPolicy(Value<PollOptions>(sp), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => new FeedFetcher(sp.GetRequiredService<HttpClient>(), Value<FetchOptions>(sp),
            sp.GetRequiredService<AppPaths>().ConfigDirectory));
        services.AddSingleton<FeedIngestor>();

        services.AddSingleton<IEmbeddingGenerator<string, Embedding<float>>>(sp => Embedder(sp));
        services.AddSingleton<ISearchIndex>(sp => SearchIndex(sp));
        services.AddSingleton<SearchIndexer>();
        services.AddSingleton<RetentionPass>();

        services.AddSingleton(sp => new MarketDataLoader(sp.GetRequiredService<IMarketStore>(), Value<MarketOptions>(sp),
            sp.GetRequiredService<AppPaths>().ConfigDirectory, sp.GetRequiredService<ILogger<MarketDataLoader>>(),
            sp.GetRequiredService<HttpClient>(), sp.GetRequiredService<Watchlist>().Tickers.Select(t => t.Symbol).ToList()));

        services.AddSingleton(sp => ModelProfiles.Load(sp.GetRequiredService<AppPaths>().FromConfig("models.json")));
        services.AddSingleton(sp => new CitationValidator(sp.GetRequiredService<Watchlist>().Tickers.Select(t => t.Symbol)));
        services.AddSingleton(sp => new Relevance(sp.GetRequiredService<TickerTagger>()));
        // One Semantic Kernel per configured model profile; disabled profiles have none (the extractive fallbacks).
        services.AddSingleton(sp => new ModelKernels(sp.GetRequiredService<ModelProfiles>(), sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<CitationValidator>(), sp.GetRequiredService<Relevance>(), sp.GetRequiredService<ILoggerFactory>()));
        services.AddSingleton<IBriefingWriter>(sp => BriefingWriter(sp));
        services.AddSingleton(sp => Value<BriefingOptions>(sp));
        services.AddSingleton<BriefingComposer>();
        services.AddSingleton(sp => new BriefingPublisher(Path.Combine(
            sp.GetRequiredService<AppPaths>().FromRoot(Value<FinNewsOptions>(sp).DataDirectory), "briefings"), Value<WebOptions>(sp).PublicBaseUrl));
        services.AddSingleton(sp => new StoryClusterer(Value<BriefingOptions>(sp).ClusterThreshold));
        services.AddSingleton<StoryAssigner>();
        services.AddSingleton<FinNewsPipeline>();
        services.AddSingleton(sp =>
        {
            var kernel = sp.GetRequiredService<ModelKernels>().Find(ModelProfiles.Briefing, out _);
            return new AnswerService(sp.GetRequiredService<ISearchIndex>(), sp.GetRequiredService<IArticleStore>(), sp.GetRequiredService<IMarketStore>(), kernel,
                kernel is null ? null : sp.GetRequiredService<ModelProfiles>().Find(ModelProfiles.Briefing), sp.GetRequiredService<Relevance>(),
                sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<AnswerService>>());
        });
        services.AddSingleton<FeedHealth>();
        services.AddSingleton(sp => new FinNews.Core.Access.ApiKeyRateLimiter(sp.GetRequiredService<TimeProvider>()));
    }

    /// <summary>The configured embedder; GloVe must have been installed into the data folder first.</summary>
    private static IEmbeddingGenerator<string, Embedding<float>> Embedder(IServiceProvider sp)
    {
        var search = Value<SearchOptions>(sp);
        if (search.Embedder == "openai")
        {
            // Any OpenAI-compatible endpoint, from the "embedding" profile of config/models.json.
            var kernel = sp.GetRequiredService<ModelKernels>().Find(ModelProfiles.Embedding, out var reason)
                ?? throw new InvalidDataException($"Search:Embedder = 'openai' but the 'embedding' model profile is not usable: {reason}.");
            return kernel.GetRequiredService<IEmbeddingGenerator<string, Embedding<float>>>();
        }

        if (search.Embedder == ArcticEmbedder.ProviderName)
        {
            // The local sentence model: its weights ship in the package, so there is nothing to install.
            return new ArcticEmbedder();
        }

        if (search.Embedder != "glove")
        {
            return new HashingEmbedder(search.Dimensions);
        }

        var data = sp.GetRequiredService<AppPaths>().FromRoot(Value<FinNewsOptions>(sp).DataDirectory);
        return GloveInstaller.IsInstalled(data)
            ? GloveEmbedder.Load(GloveInstaller.ModelPath(data))
            : throw new InvalidDataException($"Search:Embedder = 'glove' but the GloVe vectors are not installed in {data}/models; run `finnews models install glove`.");
    }

    /// <summary>The embedded SQLite index by default; Elasticsearch when Search:Backend says so.</summary>
    private static ISearchIndex SearchIndex(IServiceProvider sp) => CreateSearchIndex(sp, Value<SearchOptions>(sp).Backend);

    /// <summary>
    /// A search index for <paramref name="backend"/> ("sqlite" or "elasticsearch") whatever Search:Backend says, with the
    /// configured embedder and fusion (`finnews reindex --to` builds its target with this). Both backends take the same
    /// Search:Fusion, VectorWeight and RrfK, so hybrid results agree across them.
    /// </summary>
    public static ISearchIndex CreateSearchIndex(IServiceProvider sp, string backend)
    {
        var search = Value<SearchOptions>(sp);
        var embedder = sp.GetRequiredService<IEmbeddingGenerator<string, Embedding<float>>>();
        var fusion = search.FusionSettings();
        switch (backend)
        {
            case "sqlite":
                return new SqliteSearchIndex(sp.GetRequiredService<StorageLocation>().EmbeddedSearchConnectionString, embedder, search.Embedder,
                    SqliteSearchIndexOptions.Default with { Fusion = fusion.Fusion, VectorWeight = fusion.VectorWeight, RrfK = fusion.RrfK, VectorFloor = fusion.VectorFloor });
            case "elasticsearch":
                return new ElasticsearchSearchIndex(ElasticsearchOptionsFrom(sp), embedder, search.Embedder, fusion,
                    sp.GetRequiredService<ILogger<ElasticsearchSearchIndex>>(), sp.GetRequiredService<TimeProvider>());
            default:
                throw new ArgumentException($"unknown search backend '{backend}' (use sqlite or elasticsearch)", nameof(backend));
        }
    }

    /// <summary>The "Elasticsearch" section, with the connection and secrets from the environment (never from files).</summary>
    public static ElasticsearchOptions ElasticsearchOptionsFrom(IServiceProvider sp)
    {
        var section = sp.GetRequiredService<IConfiguration>().GetSection("Elasticsearch");
        foreach (var (key, variable) in new[] { ("ApiKey", "FINNEWS_ELASTICSEARCH_API_KEY"), ("Password", "FINNEWS_ELASTICSEARCH_PASSWORD") })
        {
            if (!string.IsNullOrEmpty(section[key]))
            {
                throw new InvalidDataException($"Elasticsearch:{key} is set in the configuration: secrets are not read from configuration; set {variable} in the environment instead.");
            }
        }

        var options = section.Get<ElasticsearchOptions>() ?? new ElasticsearchOptions();
        options.Url = Environment.GetEnvironmentVariable("FINNEWS_ELASTICSEARCH_URL") ?? options.Url;
        options.ApiKey = Environment.GetEnvironmentVariable("FINNEWS_ELASTICSEARCH_API_KEY") ?? options.ApiKey;
        options.Username = Environment.GetEnvironmentVariable("FINNEWS_ELASTICSEARCH_USERNAME") ?? options.Username;
        options.Password = Environment.GetEnvironmentVariable("FINNEWS_ELASTICSEARCH_PASSWORD") ?? options.Password;
        options.CertificateFingerprint = Environment.GetEnvironmentVariable("FINNEWS_ELASTICSEARCH_FINGERPRINT") ?? options.CertificateFingerprint;
        return options;
    }

    /// <summary>
    /// The finance-tuned model through the LLM writer when the "briefing" profile is configured (enabled and its key
    /// variable set); otherwise the extractive writer, and the briefing says why.
    /// </summary>
    private static IBriefingWriter BriefingWriter(IServiceProvider sp)
    {
        var kernel = sp.GetRequiredService<ModelKernels>().Find(ModelProfiles.Briefing, out var reason);
        var logger = sp.GetRequiredService<ILogger<LlmWriter>>();
        if (kernel is null)
        {
            logger.LogInformation("Briefing model not configured ({Reason}); using the extractive writer", reason);
            return new ExtractiveWriter($"Written by the extractive writer: no language model is configured ({reason}).");
        }

        return new LlmWriter(kernel, sp.GetRequiredService<ModelProfiles>().Find(ModelProfiles.Briefing)!, sp.GetRequiredService<CitationValidator>(),
            sp.GetRequiredService<TimeProvider>(), logger, new ExtractiveWriter());
    }

    /// <summary>Runs the start-up validation of every options section (hosts that are never started call this).</summary>
    public static void ValidateOptions(this IServiceProvider services) =>
        services.GetRequiredService<Microsoft.Extensions.Options.IStartupValidator>().Validate();

    private static T Value<T>(IServiceProvider sp) where T : class => sp.GetRequiredService<IOptions<T>>().Value;

    private static void Bind<T>(IHostApplicationBuilder builder, string section) where T : class
    {
        builder.Services.AddOptions<T>().BindConfiguration(section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<T>>(sp => (IValidateOptions<T>)(object)sp.GetRequiredService<FinNewsOptionsValidator>());
    }
}
