using System.Globalization;
using FinNews.Core.Feeds;
using FinNews.Core.Search;
using FinNews.Core.Search.Elasticsearch;
using FinNews.Core.Storage.Sqlite;
using FinNews.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace FinNews.Tests.Search.Elasticsearch;

/// <summary>A fact that runs only against a real cluster: skipped (and reported as skipped) without FINNEWS_ELASTICSEARCH_URL.</summary>
public sealed class LiveElasticsearchFactAttribute : FactAttribute
{
    public const string UrlVariable = "FINNEWS_ELASTICSEARCH_URL";

    public LiveElasticsearchFactAttribute()
    {
        if (string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(UrlVariable)))
        {
            Skip = $"{UrlVariable} is not set; no Elasticsearch cluster to test against";
        }
    }
}

/// <summary>
/// The whole index against a live Elasticsearch 9 or Serverless (FINNEWS_ELASTICSEARCH_URL, plus optional
/// FINNEWS_ELASTICSEARCH_API_KEY, _USERNAME/_PASSWORD and _FINGERPRINT): index, bulk, every search mode with filters,
/// each hybrid path the licence allows, retention and reindex. Each run uses its own index prefix and deletes its indices.
/// </summary>
public sealed class ElasticsearchLiveTests
{
    private static ElasticsearchSearchIndex Create(string prefix, string retriever = "none", FusionSettings? fusion = null) => new(
        new ElasticsearchOptions
        {
            Url = Environment.GetEnvironmentVariable(LiveElasticsearchFactAttribute.UrlVariable)!,
            ApiKey = Environment.GetEnvironmentVariable("FINNEWS_ELASTICSEARCH_API_KEY"),
            Username = Environment.GetEnvironmentVariable("FINNEWS_ELASTICSEARCH_USERNAME"),
            Password = Environment.GetEnvironmentVariable("FINNEWS_ELASTICSEARCH_PASSWORD"),
            CertificateFingerprint = Environment.GetEnvironmentVariable("FINNEWS_ELASTICSEARCH_FINGERPRINT"),
            IndexPrefix = prefix,
            NumberOfReplicas = 0,
            HybridRetriever = retriever,
            BulkBatchSize = 3,
        },
        new HashingEmbedder(),
        HashingEmbedder.ProviderName,
        fusion ?? FusionSettings.Default,
        null,
        new ManualTimeProvider(Some.Day));

    [LiveElasticsearchFact]
    public async Task Index_bulk_search_every_mode_and_path_with_filters_retention_and_clear()
    {
        var prefix = "finnews-test-" + Guid.NewGuid().ToString("N")[..8];
        using var index = Create(prefix);
        try
        {
            await index.InitializeAsync();
            var corpus = SearchTestData.Corpus();
            var chunks = corpus.Sum(a => Chunker.Chunk(a).Count);
            var report = await index.IndexWithReportAsync(corpus);
            report.Failures.Should().BeEmpty();
            report.Indexed.Should().Be(chunks, "BulkBatchSize 3 splits the corpus over several _bulk requests");
            await index.IndexAsync(corpus); // idempotent: same ids, stale chunks removed
            (await index.CountAsync()).Should().Be(chunks);

            var paths = new List<(string Retriever, FusionSettings Fusion)> { ("none", FusionSettings.Default), ("none", new FusionSettings(HybridFusion.ReciprocalRank)) };
            if (index.Cluster!.AllowsRetrievers)
            {
                paths.Add(("rrf", new FusionSettings(HybridFusion.ReciprocalRank)));
                paths.Add(("linear", FusionSettings.Default));
            }

            foreach (var (retriever, fusion) in paths)
            {
                using var path = Create(prefix, retriever, fusion);
                foreach (var mode in Enum.GetValues<SearchMode>())
                {
                    var label = string.Create(CultureInfo.InvariantCulture, $"{mode} via {retriever}/{fusion.Fusion}");
                    var hits = await path.SearchAsync(new SearchQuery("Acme quarterly earnings", mode, 3));
                    hits.Should().NotBeEmpty(label);
                    hits.Select(h => h.ArticleId).Should().OnlyHaveUniqueItems();
                    hits[0].ArticleId.Should().Be("a1", label);

                    var filtered = await path.SearchAsync(new SearchQuery("Acme Novalux factory earnings chip", mode, 10,
                        Since: SearchTestData.Jan1.AddDays(10), Until: SearchTestData.Jan1.AddDays(24), Tickers: ["nvlx"]));
                    filtered.Select(h => h.ArticleId).Should().BeSubsetOf(["a2"], $"{label}: a5 is on the 25th, a1 on the 10th");

                    var bySource = await path.SearchAsync(new SearchQuery("costs rates earnings", mode, 10, Sources: ["ft"]));
                    bySource.Select(h => h.ArticleId).Should().BeSubsetOf(["a3"], label);
                }

                path.HybridPath.Should().Be(retriever switch { "rrf" => HybridPath.RrfRetriever, "linear" => HybridPath.LinearRetriever, _ => HybridPath.ClientFusion });
            }

            (await index.DropBeforeAsync(SearchTestData.Jan1.AddMonths(1))).Should().Be(1);
            (await index.CountAsync()).Should().Be(0);
        }
        finally
        {
            await index.ClearAsync();
        }
    }

    [LiveElasticsearchFact]
    public async Task Reindex_copies_a_store_into_the_cluster_and_verifies_the_counts()
    {
        var prefix = "finnews-test-" + Guid.NewGuid().ToString("N")[..8];
        using var env = TestEnvironment.Create();
        var store = new SqliteStore(env.DatabasePath);
        store.Initialize();
        store.SyncFeeds([new FeedDefinition("f", "F", "https://f.example/rss")]);
        store.CommitFetch("f", [.. Enumerable.Range(0, 40).Select(i => Some.Article($"r{i}", "f"))], null, null, Some.Day);
        using var index = Create(prefix);
        try
        {
            var copier = new SearchIndexCopier(store, index, prefix, HashingEmbedder.ProviderName, new HashingEmbedder(),
                Path.Combine(env.DataDirectory, "reindex.checkpoint.json"), env.Clock, NullLogger.Instance);

            var report = await copier.CopyAsync(batchSize: 16);

            report.Verified.Should().BeTrue();
            report.ActualChunks.Should().Be(40);
        }
        finally
        {
            await index.ClearAsync();
        }
    }
}
