using System.Net;
using System.Text.Json;
using FinNews.Core;
using FinNews.Core.Search;
using FinNews.Hosting;
using FinNews.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace FinNews.Tests.Search;

/// <summary>
/// Issue 10, item 1 (search): a query the stored news cannot answer finds nothing in hybrid (the default) and lexical
/// mode, over HTTP and on the command line; vector hits must clear the relevance floor unless lexical search found them too.
/// </summary>
public sealed class NothingFoundTests
{
    [Fact]
    public async Task A_query_about_news_the_samples_do_not_hold_finds_nothing_over_http_while_a_covered_one_still_finds_its_story()
    {
        using var env = TestEnvironment.Create();
        await using var app = AppHost.BuildWeb(env.Paths, env.Clock, "http://127.0.0.1:0", withScheduler: false);
        await app.StartAsync();
        await app.Services.GetRequiredService<FinNewsPipeline>().IngestAsync(null, CancellationToken.None);
        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };

        foreach (var mode in new[] { "hybrid", "lexical" })
        {
            using var none = JsonDocument.Parse(await http.GetStringAsync($"/api/v1/search?q=bitcoin+etf&mode={mode}"));
            none.RootElement.GetArrayLength().Should().Be(0, $"no sample mentions bitcoin or an ETF ({mode})");
        }

        var page = await http.GetAsync("/search?q=bitcoin+etf");
        page.StatusCode.Should().Be(HttpStatusCode.OK);
        var html = await page.Content.ReadAsStringAsync();
        html.Should().Contain("Nothing found for “bitcoin etf” in the stored news.").And.NotContain("<ol class=\"results\">");

        using var covered = JsonDocument.Parse(await http.GetStringAsync("/api/v1/search?q=Bank+of+Japan+rates"));
        covered.RootElement.GetArrayLength().Should().BeGreaterThan(0);
        covered.RootElement[0].GetProperty("title").GetString().Should().Contain("Bank of Japan");
    }

    [Fact]
    public async Task The_search_command_says_no_matching_articles_for_a_query_the_samples_do_not_cover()
    {
        using var env = TestEnvironment.Create();
        (await FinNewsProcess.RunAsync("ingest", "--config", env.ConfigDirectory)).Code.Should().Be(0);

        var (code, stdout, stderr) = await FinNewsProcess.RunAsync("search", "bitcoin etf", "--config", env.ConfigDirectory);

        code.Should().Be(0, stderr);
        stdout.Trim().Should().Be("No matching articles.");
    }

    [Fact]
    public void Vector_only_hits_below_the_floor_are_dropped_and_hits_lexical_search_also_found_are_kept()
    {
        List<RankedChunk> lexical = [new("a", "a#0", 9.0, 0), new("b", "b#0", 4.0, 0)];
        List<RankedChunk> vector = [new("c", "c#0", 0.61, 0), new("b", "b#0", 0.12, 0), new("d", "d#0", 0.2, 0)];

        foreach (var fusion in new[] { HybridFusion.Convex, HybridFusion.ReciprocalRank })
        {
            var fused = HybridRanking.Fuse(lexical, vector, new FusionSettings(fusion, VectorFloor: 0.25));

            fused.Select(h => h.ChunkId).Should().BeEquivalentTo(["a#0", "b#0", "c#0"], $"d is only a weak vector neighbour ({fusion})");
        }

        HybridRanking.Fuse(lexical, vector, new FusionSettings(VectorFloor: 0)).Should().HaveCount(4, "a floor of 0 keeps every hit");
        HybridRanking.AboveFloor(vector, new FusionSettings(VectorFloor: 0.25)).Select(h => h.ChunkId).Should().Equal("c#0");
    }

    [Fact]
    public void A_floor_outside_zero_to_one_is_refused_naming_the_key()
    {
        new FusionSettings(VectorFloor: 1.5).Problems("Search").Should().ContainSingle().Which.Should().Contain("Search:VectorFloor = 1.5");
        FusionSettings.DefaultVectorFloorFor("glove").Should().BeGreaterThan(FusionSettings.DefaultVectorFloorFor("hashing"),
            "averaged word vectors put unrelated texts closer than hashed words do");
    }
}
