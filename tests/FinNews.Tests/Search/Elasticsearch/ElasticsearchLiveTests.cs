using System.Globalization;
using FinNews.Core.Search;
using FinNews.Core.Search.Elasticsearch;

using FinNews.Tests.Support;

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
/// The whole index against a live cluster (FINNEWS_ELASTICSEARCH_URL, plus optional FINNEWS_ELASTICSEARCH_API_KEY,
/// _USERNAME/_PASSWORD and _FINGERPRINT). Each run uses its own index prefix and deletes its indices at the end.
/// </summary>
public sealed class ElasticsearchLiveTests
{
    private static ElasticsearchSearchIndex Create(string prefix) => new(
        new ElasticsearchOptions
        {
            Url = Environment.GetEnvironmentVariable(LiveElasticsearchFactAttribute.UrlVariable)!,
            ApiKey = Environment.GetEnvironmentVariable("FINNEWS_ELASTICSEARCH_API_KEY"),
            Username = Environment.GetEnvironmentVariable("FINNEWS_ELASTICSEARCH_USERNAME"),
            Password = Environment.GetEnvironmentVariable("FINNEWS_ELASTICSEARCH_PASSWORD"),
            CertificateFingerprint = Environment.GetEnvironmentVariable("FINNEWS_ELASTICSEARCH_FINGERPRINT"),
            IndexPrefix = prefix,
            NumberOfReplicas = 0,
        },
        new HashingEmbedder(),
        HashingEmbedder.ProviderName,
        null,
        new ManualTimeProvider(Some.Day));

    private static async Task WaitForCountAsync(ElasticsearchSearchIndex index, long expected)
    {
        // New documents become visible at the next refresh (1 s by default).
        for (var i = 0; i < 50 && await index.CountAsync() != expected; i++)
        {
            await Task.Delay(200);
        }

        (await index.CountAsync()).Should().Be(expected);
    }

    [LiveElasticsearchFact]
    public async Task Index_search_in_every_mode_with_filters_count_and_clear()
    {
        var prefix = "finnews-test-" + Guid.NewGuid().ToString("N")[..8];
        using var index = Create(prefix);
        try
        {
            await index.InitializeAsync();
            var corpus = SearchTestData.Corpus();
            var chunks = corpus.Sum(a => Chunker.Chunk(a).Count);
            await index.IndexAsync(corpus);
            await index.IndexAsync(corpus); // idempotent: same ids, old chunks deleted first
            await WaitForCountAsync(index, chunks);

            foreach (var mode in Enum.GetValues<SearchMode>())
            {
                var hits = await index.SearchAsync(new SearchQuery("Acme quarterly earnings", mode, 3));
                hits.Should().NotBeEmpty(mode.ToString());
                hits.Select(h => h.ArticleId).Should().OnlyHaveUniqueItems();
                hits[0].ArticleId.Should().Be("a1", mode.ToString());

                var filtered = await index.SearchAsync(new SearchQuery("Acme Novalux factory earnings chip", mode, 10,
                    Since: SearchTestData.Jan1.AddDays(10), Until: SearchTestData.Jan1.AddDays(24), Tickers: ["nvlx"]));
                filtered.Select(h => h.ArticleId).Should().BeSubsetOf(["a2"], string.Create(CultureInfo.InvariantCulture, $"{mode}: a5 is on the 25th, a1 on the 10th"));

                var bySource = await index.SearchAsync(new SearchQuery("costs rates earnings", mode, 10, Sources: ["ft"]));
                bySource.Select(h => h.ArticleId).Should().BeSubsetOf(["a3"]);
            }

            await index.ClearAsync();
            (await index.CountAsync()).Should().Be(0);
        }
        finally
        {
            await index.ClearAsync();
        }
    }
}
