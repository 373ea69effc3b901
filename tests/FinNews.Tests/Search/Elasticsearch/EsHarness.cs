using FinNews.Core.Search;
using FinNews.Core.Search.Elasticsearch;

namespace FinNews.Tests.Search.Elasticsearch;

/// <summary>A fake cluster on a loopback server plus a client pointed at it.</summary>
internal sealed class EsHarness : IAsyncDisposable
{
    public const string ApiKey = "VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==";

    private EsHarness(FakeCluster cluster, EsLoopbackServer server, ElasticsearchSearchIndex index,
        CapturingLogger<ElasticsearchSearchIndex> logger, RecordingDelayTimeProvider time)
    {
        Cluster = cluster;
        Server = server;
        Index = index;
        Logger = logger;
        Time = time;
    }

    public FakeCluster Cluster { get; }

    public EsLoopbackServer Server { get; }

    public ElasticsearchSearchIndex Index { get; }

    public CapturingLogger<ElasticsearchSearchIndex> Logger { get; }

    public RecordingDelayTimeProvider Time { get; }

    public IEnumerable<RecordedRequest> Searches => Server.Requests.Where(r => r.Path.EndsWith("/_search", StringComparison.Ordinal));

    public IEnumerable<RecordedRequest> Bulks => Server.Requests.Where(r => r.Path == "/_bulk");

    public static async Task<EsHarness> StartAsync(
        string version = "8.17.0", Action<ElasticsearchOptions>? configure = null, Action<FakeCluster>? setup = null, int dimensions = 64)
    {
        var cluster = new FakeCluster { Version = version };
        setup?.Invoke(cluster);
        var server = await EsLoopbackServer.StartAsync(cluster.Respond);
        var options = new ElasticsearchOptions
        {
            Url = server.Url,
            ApiKey = ApiKey,
            MaxRetries = 3,
            RetryBaseDelayMilliseconds = 100,
            NumberOfReplicas = 0,
            HnswM = 16,
            HnswEfConstruction = 100,
        };
        configure?.Invoke(options);
        var logger = new CapturingLogger<ElasticsearchSearchIndex>();
        var time = new RecordingDelayTimeProvider();
        var index = new ElasticsearchSearchIndex(options, new HashingEmbedder(dimensions), HashingEmbedder.ProviderName, logger, time);
        return new EsHarness(cluster, server, index, logger, time);
    }

    public async ValueTask DisposeAsync()
    {
        Index.Dispose();
        await Server.DisposeAsync();
    }
}
