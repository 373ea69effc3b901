using FinNews.Core.Feeds;
using FinNews.Core.Search;
using Microsoft.Data.Sqlite;

namespace FinNews.Tests.Search;

/// <summary>Throwaway articles and a temporary SQLite file for search tests.</summary>
internal static class SearchTestData
{
    public static readonly DateTimeOffset Jan1 = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static Article Article(
        string id,
        string title,
        string summary = "",
        string body = "",
        string feedId = "wire",
        DateTimeOffset? publishedAt = null,
        params string[] tickers)
    {
        var published = publishedAt ?? Jan1;
        return new Article(
            Id: id,
            FeedId: feedId,
            Outlet: feedId,
            Title: title,
            Url: $"https://example.test/{id}",
            Summary: summary,
            Body: body,
            PublishedAt: published,
            FirstSeenAt: published,
            PublishedIsFallback: false,
            Tickers: tickers,
            Authors: [],
            Categories: [],
            ContentHash: id);
    }

    /// <summary><paramref name="count"/> sentences of nine words each, numbered so every sentence is distinct.</summary>
    public static string Sentences(int count, string topic = "factory") =>
        string.Join(' ', Enumerable.Range(1, count).Select(i => $"The {topic} line number {i} ran at full capacity."));

    /// <summary>A small corpus: one article per topic, spread over January 2025 and three feeds.</summary>
    public static IReadOnlyList<Article> Corpus() =>
    [
        Article("a1", "Acme Corp reports record quarterly earnings",
            "Acme beat analyst estimates as revenue climbed 20 percent.", feedId: "reuters", publishedAt: Jan1.AddDays(9), tickers: "ACME"),
        Article("a2", "Novalux unveils new accelerator chip",
            "Novalux shares jumped after the company unveiled an accelerator chip for data centers.", feedId: "bloomberg", publishedAt: Jan1.AddDays(11), tickers: "NVLX"),
        Article("a3", "Federal Reserve holds interest rates steady",
            "Policymakers kept the benchmark rate unchanged and signaled patience on cuts.", feedId: "ft", publishedAt: Jan1.AddDays(14)),
        Article("a4", "Shipping disruptions lift freight costs",
            "Freight costs rose after the canal blockage; analysts describe a zugzwang facing carriers.", feedId: "reuters", publishedAt: Jan1.AddDays(19)),
        Article("a5", "Acme and Novalux expand joint factory",
            "The two companies will build a second plant in Ohio.", body: Sentences(60), feedId: "bloomberg", publishedAt: Jan1.AddDays(24), tickers: ["ACME", "NVLX"]),
    ];
}

/// <summary>A SQLite file in its own temporary directory, deleted on dispose.</summary>
internal sealed class TempDatabase : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "finnews-search-" + Guid.NewGuid().ToString("N"));

    public TempDatabase()
    {
        Directory.CreateDirectory(_directory);
        ConnectionString = new SqliteConnectionStringBuilder { DataSource = Path.Combine(_directory, "finnews.db") }.ToString();
    }

    public string ConnectionString { get; }

    public SqliteSearchIndex CreateIndex(int dimensions = 256, string name = HashingEmbedder.ProviderName) =>
        new(ConnectionString, new HashingEmbedder(dimensions), name);

    public void Dispose()
    {
        // Pooled connections keep the file open; release them before deleting it.
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}
