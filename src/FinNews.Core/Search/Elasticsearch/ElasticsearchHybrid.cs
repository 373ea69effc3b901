namespace FinNews.Core.Search.Elasticsearch;

/// <summary>Where a hybrid search is fused.</summary>
public enum HybridPath
{
    /// <summary>Lexical and kNN searches in one <c>_msearch</c>, fused in the client by <see cref="HybridRanking.Fuse"/>.</summary>
    ClientFusion,

    /// <summary>The server-side <c>rrf</c> retriever (Enterprise or trial licence, or Serverless).</summary>
    RrfRetriever,

    /// <summary>The server-side <c>linear</c> retriever with min-max normalization (Enterprise or trial, or Serverless).</summary>
    LinearRetriever,
}

/// <summary>What the cluster allows, read from <c>GET /</c> and <c>GET _license</c> at start.</summary>
/// <param name="Version">The server version number, e.g. <c>9.1.0</c>.</param>
/// <param name="Serverless">True on Elastic Cloud Serverless (no licence API; retrievers always available).</param>
/// <param name="LicenceType">The licence type in lower case (<c>basic</c>, <c>trial</c>, <c>enterprise</c>...), or null when unread.</param>
/// <param name="LicenceStatus">The licence status in lower case (<c>active</c>, <c>expired</c>...), or null when unread.</param>
public sealed record ClusterFacts(string Version, bool Serverless, string? LicenceType, string? LicenceStatus)
{
    /// <summary>The <c>rrf</c> and <c>linear</c> retrievers are Enterprise features; a trial licence unlocks everything.</summary>
    public bool AllowsRetrievers =>
        Serverless || (LicenceStatus == "active" && LicenceType is "enterprise" or "trial");

    /// <summary>How the cluster is described in logs and explanations.</summary>
    public string Describe() => Serverless
        ? $"Elasticsearch Serverless ({Version})"
        : $"Elasticsearch {Version}, licence {LicenceType ?? "unknown"}{(LicenceStatus is null or "active" ? string.Empty : $" ({LicenceStatus})")}";
}

/// <summary>Chooses where hybrid search is fused, from the configuration and what the licence allows.</summary>
public static class HybridPlanner
{
    /// <summary>
    /// The path for <paramref name="configured"/> (<see cref="ElasticsearchOptions.HybridRetriever"/>): client-side fusion
    /// unless a retriever is configured and the licence allows it; the reason when a configured retriever is not used.
    /// </summary>
    public static (HybridPath Path, string? Reason) Choose(string configured, HybridFusion fusion, ClusterFacts cluster)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        var wanted = configured switch
        {
            "rrf" => HybridPath.RrfRetriever,
            "linear" => HybridPath.LinearRetriever,
            "auto" => fusion == HybridFusion.ReciprocalRank ? HybridPath.RrfRetriever : HybridPath.LinearRetriever,
            _ => HybridPath.ClientFusion,
        };
        if (wanted == HybridPath.ClientFusion || cluster.AllowsRetrievers)
        {
            return (wanted, null);
        }

        return (HybridPath.ClientFusion,
            $"Elasticsearch:HybridRetriever = '{configured}' needs an Enterprise or trial licence, and this cluster has " +
            $"'{cluster.LicenceType ?? "unknown"}' ({cluster.LicenceStatus ?? "status unknown"}); hybrid search is fused client-side instead");
    }
}
