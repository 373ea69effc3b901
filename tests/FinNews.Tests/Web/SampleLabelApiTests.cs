using System.Net.Http.Json;
using System.Text.Json;
using FinNews.Core;
using FinNews.Core.Briefing;
using FinNews.Core.Feeds;
using FinNews.Core.Storage.Sqlite;
using FinNews.Hosting;
using FinNews.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace FinNews.Tests.Web;

/// <summary>Sample data is labelled in what programs read too: a <c>sample</c> flag on sources and results.</summary>
public class SampleLabelApiTests
{
    private const string RealOutlet = "Real Wire";

    [Fact]
    public async Task The_api_flags_sample_sources_of_briefings_search_results_ask_sources_and_articles()
    {
        using var env = TestEnvironment.Create();
        env.SetSetting("Briefing:PerTicker", 20);
        await using var app = AppHost.BuildWeb(env.Paths, env.Clock, "http://127.0.0.1:0", withScheduler: false);
        await app.StartAsync();
        var store = app.Services.GetRequiredService<SqliteStore>();
        // One article from a feed that is not sample data (disabled, so the ingest never fetches it).
        store.TryAddFeed(new FeedDefinition("real-wire", RealOutlet, "https://real-wire.example/rss", Enabled: false), env.Clock.GetUtcNow());
        store.CommitFetch("real-wire", [Some.Article("real1", "real-wire", "Novalux supplier talks reported by a real wire",
            new DateTimeOffset(2026, 11, 20, 20, 30, 0, TimeSpan.Zero), ["NVLX"], RealOutlet, "Novalux Semiconductor is said to be in talks with a new wafer supplier.")],
            null, null, env.Clock.GetUtcNow());
        var pipeline = app.Services.GetRequiredService<FinNewsPipeline>();
        await pipeline.IngestAsync(null, CancellationToken.None);
        var (briefing, _) = await pipeline.BriefAsync(null, CancellationToken.None);
        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };

        using var latest = JsonDocument.Parse(await http.GetStringAsync("/api/v1/briefings/latest"));
        var sources = latest.RootElement.GetProperty("sources").EnumerateArray().ToList();
        sources.Should().HaveCount(briefing.Sources.Count);
        sources.Should().Contain(s => s.GetProperty("outlet").GetString() == RealOutlet);
        foreach (var s in sources)
        {
            s.GetProperty("sample").GetBoolean().Should().Be(s.GetProperty("outlet").GetString() != RealOutlet, s.GetProperty("title").GetString());
        }

        // The markets section carries its table: one row per symbol, each citing stored (sample) bars.
        var markets = latest.RootElement.GetProperty("sections").EnumerateArray().Single(s => s.GetProperty("key").GetString() == "markets");
        var rows = markets.GetProperty("rows").EnumerateArray().ToList();
        rows.Should().HaveCount(10);
        var nvlx = rows.Single(r => r.GetProperty("symbol").GetString() == "NVLX");
        nvlx.GetProperty("name").GetString().Should().Be("Novalux Semiconductor");
        nvlx.GetProperty("close").GetDecimal().Should().Be(148.38m);
        nvlx.GetProperty("date").GetString().Should().Be("2026-11-20");
        nvlx.GetProperty("closes").GetArrayLength().Should().Be(20);
        foreach (var row in rows)
        {
            var cited = briefing.Source(row.GetProperty("citation").GetInt32());
            cited.Should().NotBeNull();
            cited!.Kind.Should().Be(SourceKind.MarketData);
            cited.Sample.Should().BeTrue();
            cited.Url.Should().Be($"/market/{row.GetProperty("symbol").GetString()}");
        }

        using var search = JsonDocument.Parse(await http.GetStringAsync("/api/v1/search?q=Novalux&limit=50"));
        var results = search.RootElement.EnumerateArray().ToList();
        results.Should().Contain(r => r.GetProperty("outlet").GetString() == RealOutlet).And.Contain(r => r.GetProperty("sample").GetBoolean());
        results.Should().OnlyContain(r => r.GetProperty("sample").GetBoolean() == (r.GetProperty("outlet").GetString() != RealOutlet));

        using var answer = JsonDocument.Parse(await (await http.PostAsJsonAsync("/api/v1/ask", new { question = "What happened to Novalux?" })).Content.ReadAsStringAsync());
        var askSources = answer.RootElement.GetProperty("sources").EnumerateArray().ToList();
        askSources.Should().NotBeEmpty().And.Contain(s => s.GetProperty("sample").GetBoolean());
        askSources.Should().OnlyContain(s => s.GetProperty("sample").GetBoolean() == (s.GetProperty("outlet").GetString() != RealOutlet));

        var sampleArticle = briefing.Sources.First(s => s.Sample && s.ArticleId is not null).ArticleId!;
        using var article = JsonDocument.Parse(await http.GetStringAsync($"/api/v1/articles/{Uri.EscapeDataString(sampleArticle)}"));
        article.RootElement.GetProperty("sample").GetBoolean().Should().BeTrue();
        using var real = JsonDocument.Parse(await http.GetStringAsync("/api/v1/articles/real1"));
        real.RootElement.GetProperty("sample").GetBoolean().Should().BeFalse();

        var md = await http.GetStringAsync($"/api/v1/briefings/{briefing.Id}?format=md");
        md.Should().Contain("> **Partly sample data:").And.Contain("Meridian Wire (sample):").And.Contain($"{RealOutlet}: ");
        md.Should().NotContain($"{RealOutlet} (sample)");
    }

    [Fact]
    public void A_briefing_stored_before_sample_flags_and_market_rows_still_loads_and_renders_its_statements()
    {
        // The stored JSON of a briefing written before BriefingSource.Sample and BriefingSection.Rows existed.
        const string Stored = """
            {
              "id": "20261121-060000-abcdef", "createdAt": "2026-11-21T06:00:00+00:00",
              "windowStart": "2026-11-20T06:00:00+00:00", "windowEnd": "2026-11-21T06:00:00+00:00",
              "title": "Financial briefing, Friday 20 November 2026", "writer": "extractive", "model": null, "notes": [],
              "sections": [
                { "key": "top", "title": "Top stories", "bullets": [ { "headline": "Novalux beats", "text": "Novalux beat estimates.", "citations": [1] } ] },
                { "key": "markets", "title": "Markets", "bullets": [ { "headline": "NVLX (Novalux Semiconductor)", "text": "NVLX closed at 148.38 on 2026-11-20.", "citations": [2] } ] }
              ],
              "sources": [
                { "number": 1, "kind": "Article", "articleId": "a1", "outlet": "Meridian Wire", "title": "Novalux beats", "url": "https://meridianwire.example/a1", "publishedAt": "2026-11-20T21:00:00+00:00" },
                { "number": 2, "kind": "MarketData", "articleId": null, "outlet": "FinNews sample market data (fictional)", "title": "NVLX daily bars to 2026-11-20", "url": "/market/NVLX", "publishedAt": "2026-11-20T21:00:00+00:00" }
              ]
            }
            """;

        var old = JsonSerializer.Deserialize(Stored, BriefingJsonContext.Default.BriefingDocument)!;

        old.Sources.Should().OnlyContain(s => !s.Sample);
        old.Sections.Should().OnlyContain(s => s.Rows == null);
        var html = BriefingRenderer.ToHtmlFragment(old);
        html.Should().NotContain("sample-banner").And.NotContain("<details").And.Contain("NVLX closed at 148.38 on 2026-11-20.");
        BriefingRenderer.ToMarkdown(old).Should().Contain("- **NVLX \\(Novalux Semiconductor\\)** NVLX closed at 148.38 on 2026-11-20. [2]");
    }
}
