using FinNews.Core.Search;
using FinNews.Core.Search.Elasticsearch;

namespace FinNews.Tests.Search.Elasticsearch;

/// <summary>A fake cluster on a loopback server plus the real index (and its official client) pointed at it.</summary>
internal sealed class EsHarness : IAsyncDisposable
{
    public const string ApiKey = "VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==";

    private readonly bool _ownsServer;

    private EsHarness(FakeCluster cluster, EsLoopbackServer server, ElasticsearchSearchIndex index,
        CapturingLogger<ElasticsearchSearchIndex> logger, RecordingDelayTimeProvider time, bool ownsServer)
    {
        _ownsServer = ownsServer;
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

    public IEnumerable<RecordedRequest> Searches => Server.Requests.Where(r => r.Path.EndsWith("/_search", StringComparison.Ordinal) || r.Path.EndsWith("/_msearch", StringComparison.Ordinal));

    public IEnumerable<RecordedRequest> Bulks => Server.Requests.Where(r => r.Path == "/_bulk");

    public static async Task<EsHarness> StartAsync(
        string licence = "basic",
        Action<ElasticsearchOptions>? configure = null,
        Action<FakeCluster>? setup = null,
        int dimensions = 64,
        FusionSettings? fusion = null,
        EsLoopbackServer? sharedServer = null,
        FakeCluster? sharedCluster = null)
    {
        var cluster = sharedCluster ?? new FakeCluster { Licence = licence };
        setup?.Invoke(cluster);
        var server = sharedServer ?? await EsLoopbackServer.StartAsync(cluster.Respond);
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
        var index = new ElasticsearchSearchIndex(options, new HashingEmbedder(dimensions), HashingEmbedder.ProviderName,
            fusion ?? FusionSettings.Default, logger, time);
        return new EsHarness(cluster, server, index, logger, time, sharedServer is null);
    }

    /// <summary>A second index on the same server and documents, configured differently (e.g. another hybrid path).</summary>
    public Task<EsHarness> SiblingAsync(Action<ElasticsearchOptions>? configure = null, FusionSettings? fusion = null) =>
        StartAsync(configure: configure, fusion: fusion, sharedServer: Server, sharedCluster: Cluster);

    public async ValueTask DisposeAsync()
    {
        Index.Dispose();
        if (_ownsServer)
        {
            await Server.DisposeAsync();
        }
    }
}
