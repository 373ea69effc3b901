using System.Net;
using FinNews.Core.Delivery;
using FinNews.Core.Storage.Sqlite;
using FinNews.Hosting;
using FinNews.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace FinNews.Tests.Web;

public sealed class UnsubscribeTests : IDisposable
{
    private readonly TestEnvironment _env = TestEnvironment.Create();

    public void Dispose() => _env.Dispose();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Following_an_unsubscribe_link_only_asks_and_the_post_unsubscribes(bool auth)
    {
        _env.SetSetting("Auth:Enabled", auth);
        await using var app = AppHost.BuildWeb(_env.Paths, _env.Clock, "http://127.0.0.1:0", withScheduler: false);
        await app.StartAsync();
        var delivery = app.Services.GetRequiredService<SqliteDeliveryStore>();
        var ann = delivery.AddSubscriber(new NewSubscriber("ann@example.com", "UTC", "daily 07:00"));
        using var http = PageClient.Create(app);

        var ask = await http.GetAsync($"/unsubscribe/{ann.UnsubscribeToken}");
        ask.StatusCode.Should().Be(HttpStatusCode.OK);
        (await ask.Content.ReadAsStringAsync()).Should().Contain($"<form method=\"post\" action=\"/unsubscribe/{ann.UnsubscribeToken}\"");
        (await http.GetAsync($"/unsubscribe/{ann.UnsubscribeToken}")).StatusCode.Should().Be(HttpStatusCode.OK);
        delivery.GetSubscriber(ann.Id)!.Active.Should().BeTrue("a mail scanner following the link changes nothing");

        // RFC 8058 one-click: a POST with List-Unsubscribe=One-Click and no antiforgery token, no sign-in.
        var oneClick = await http.PostAsync($"/unsubscribe/{ann.UnsubscribeToken}", new FormUrlEncodedContent([new("List-Unsubscribe", "One-Click")]));
        oneClick.StatusCode.Should().Be(HttpStatusCode.OK);
        (await oneClick.Content.ReadAsStringAsync()).Should().Contain("Unsubscribed");
        delivery.GetSubscriber(ann.Id)!.Active.Should().BeFalse();

        var unknown = await http.PostAsync("/unsubscribe/not-a-token", new FormUrlEncodedContent([new("List-Unsubscribe", "One-Click")]));
        unknown.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await unknown.Content.ReadAsStringAsync()).Should().Contain("not valid");
    }
}
