namespace FinNews.Core.Search.Elasticsearch;

/// <summary>A request to Elasticsearch failed; the message names the operation, the status and the server's reason.</summary>
public class ElasticsearchException : Exception
{
    public ElasticsearchException()
    {
    }

    public ElasticsearchException(string message)
        : base(message)
    {
    }

    public ElasticsearchException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception with the HTTP status and the server's error type.</summary>
    public ElasticsearchException(string message, int? statusCode, string? errorType, Exception? innerException = null)
        : base(message, innerException)
    {
        StatusCode = statusCode;
        ErrorType = errorType;
    }

    /// <summary>The HTTP status, when a response was received.</summary>
    public int? StatusCode { get; }

    /// <summary>The server's error type (e.g. <c>resource_already_exists_exception</c>), when it gave one.</summary>
    public string? ErrorType { get; }
}

/// <summary>One chunk that a <c>_bulk</c> request did not write.</summary>
/// <param name="ChunkId">The document id (<c>{articleId}#{n}</c>).</param>
/// <param name="ArticleId">The article the chunk belongs to.</param>
/// <param name="Index">The monthly index it was sent to.</param>
/// <param name="Status">The item's HTTP status (400 malformed, 409 conflict, 429 still rejected after retries, 5xx…).</param>
/// <param name="ErrorType">The server's error type, e.g. <c>mapper_parsing_exception</c>.</param>
/// <param name="Reason">The server's reason.</param>
public sealed record BulkItemFailure(string ChunkId, string ArticleId, string Index, int Status, string? ErrorType, string? Reason)
{
    /// <summary>429 and 5xx: the same item may succeed later, so the batch must be retried rather than marked indexed.</summary>
    public bool IsTransient => Status == 429 || Status >= 500;
}

/// <summary>The outcome of writing a batch of articles.</summary>
/// <param name="Articles">Articles in the batch.</param>
/// <param name="Chunks">Chunks sent.</param>
/// <param name="Indexed">Chunks written.</param>
/// <param name="Retried">Item-level retries spent on 429s.</param>
/// <param name="Failures">Chunks not written, with the server's reason.</param>
public sealed record BulkIndexReport(int Articles, int Chunks, int Indexed, int Retried, IReadOnlyList<BulkItemFailure> Failures);

/// <summary>
/// A bulk write left chunks unwritten in a way the caller must not ignore: a transient failure (429 after every
/// retry, 5xx), or every chunk rejected. The articles stay unindexed, so the next drain retries them.
/// </summary>
public sealed class ElasticsearchBulkException : ElasticsearchException
{
    public ElasticsearchBulkException()
    {
        Report = new BulkIndexReport(0, 0, 0, 0, []);
    }

    public ElasticsearchBulkException(string message)
        : base(message)
    {
        Report = new BulkIndexReport(0, 0, 0, 0, []);
    }

    public ElasticsearchBulkException(string message, Exception innerException)
        : base(message, innerException)
    {
        Report = new BulkIndexReport(0, 0, 0, 0, []);
    }

    /// <summary>Creates the exception for a finished batch.</summary>
    public ElasticsearchBulkException(string message, BulkIndexReport report)
        : base(message)
    {
        Report = report;
    }

    /// <summary>What was and was not written.</summary>
    public BulkIndexReport Report { get; }
}
