using System.Net;
using FinNews.Core;
using FinNews.Hosting;
using FinNews.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace FinNews.Tests.Web;

/// <summary>Issue 15: the latest briefing is rendered once per stored version and revalidated by entity tag.</summary>
public sealed class LatestBriefingEtagTests
{
    [Fact]
    public async Task Latest_briefing_answers_304_to_its_own_etag_until_a_newer_briefing_is_stored()
    {
        using var env = TestEnvironment.Create();
        await using var app = AppHost.BuildWeb(env.Paths, env.Clock, "http://127.0.0.1:0", withScheduler: false);
        await app.StartAsync();
        var pipeline = app.Services.GetRequiredService<FinNewsPipeline>();
        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
        (await http.GetAsync("/api/v1/briefings/latest")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        await pipeline.IngestAsync(null, CancellationToken.None);
        await pipeline.BriefAsync(null, CancellationToken.None);

        var first = await http.GetAsync("/api/v1/briefings/latest");
        var markdown = await http.GetAsync("/api/v1/briefings/latest?format=md");
        first.StatusCode.Should().Be(HttpStatusCode.OK);
        var etag = first.Headers.ETag!;
        markdown.Headers.ETag!.Tag.Should().NotBe(etag.Tag, "each rendering has its own tag");
        (await markdown.Content.ReadAsStringAsync()).Should().StartWith("# Financial briefing");

        using var conditional = new HttpRequestMessage(HttpMethod.Get, "/api/v1/briefings/latest");
        conditional.Headers.IfNoneMatch.Add(etag);
        var notModified = await http.SendAsync(conditional);
        notModified.StatusCode.Should().Be(HttpStatusCode.NotModified);
        (await notModified.Content.ReadAsByteArrayAsync()).Should().BeEmpty();

        env.Clock.Advance(TimeSpan.FromDays(1));
        await pipeline.BriefAsync(null, CancellationToken.None);
        using var again = new HttpRequestMessage(HttpMethod.Get, "/api/v1/briefings/latest");
        again.Headers.IfNoneMatch.Add(etag);
        var newer = await http.SendAsync(again);
        newer.StatusCode.Should().Be(HttpStatusCode.OK, "a newer briefing is another version");
        newer.Headers.ETag!.Tag.Should().NotBe(etag.Tag);
        (await newer.Content.ReadAsStringAsync()).Should().NotBe(await first.Content.ReadAsStringAsync());
    }
}
