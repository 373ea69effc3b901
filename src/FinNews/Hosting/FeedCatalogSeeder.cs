using FinNews.Core.Feeds;

namespace FinNews.Hosting;

/// <summary>Seeds the feed list when a host starts, so a missing or invalid feeds.json stops the start with its error.</summary>
internal sealed class FeedCatalogSeeder(FeedCatalog catalog) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        catalog.EnsureSeeded();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
