using System.ClientModel.Primitives;
using System.Globalization;
using System.Security.Cryptography;

namespace FinNews.Core.Models;

/// <summary>
/// The retry policy put into the OpenAI SDK's pipeline (instead of its default): retries 408, 429, 500, 502, 503, 504,
/// network errors and per-attempt timeouts, with exponential backoff and jitter, honouring <c>retry-after-ms</c> and
/// <c>Retry-After</c> (seconds or HTTP date) up to <see cref="ModelProfile.MaxRetryDelay"/>.
/// </summary>
/// <remarks>
/// Kept after the move to Microsoft.Extensions.AI and Semantic Kernel because the SDK's own retry does not do this:
/// System.ClientModel's default <see cref="ClientRetryPolicy"/> (what the OpenAI SDK uses unless told otherwise)
/// classifies 408/429/5xx as retriable but waits a fixed exponential backoff (0.8 s, 1.6 s, ...) with no jitter,
/// ignores <c>Retry-After</c> and <c>retry-after-ms</c>, has no cap (so it cannot refuse a Retry-After of hours), and
/// waits on the real clock instead of an injected <see cref="TimeProvider"/>. The M.E.AI chat and embedding clients
/// (<c>AsIChatClient</c>, <c>AsIEmbeddingGenerator</c>) sit on that same pipeline, so this policy covers them all.
/// Living inside the pipeline means chat (streaming and not) and embeddings share one behaviour and the SDK never
/// retries on its own. A Retry-After longer than the cap stops retrying rather than calling back early: the server said
/// when it will accept the call, and the writer has an extractive fallback.
/// </remarks>
public sealed class ModelRetryPolicy : ClientRetryPolicy
{
    private readonly int _maxRetries;
    private readonly TimeSpan _baseDelay;
    private readonly TimeSpan _maxDelay;
    private readonly TimeProvider _time;
    private readonly Func<double> _jitter;

    /// <param name="maxRetries">Retries after the first attempt.</param>
    /// <param name="baseDelay">Backoff before the first retry (before jitter); doubles per retry.</param>
    /// <param name="maxDelay">Cap on any single wait, and on an acceptable Retry-After.</param>
    /// <param name="time">Clock for waits and HTTP-date Retry-After values.</param>
    /// <param name="jitter">Source of uniform [0, 1) values; tests pin it.</param>
    public ModelRetryPolicy(int maxRetries, TimeSpan baseDelay, TimeSpan maxDelay, TimeProvider time, Func<double>? jitter = null)
        : base(maxRetries)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxRetries);
        _maxRetries = maxRetries;
        _baseDelay = baseDelay;
        _maxDelay = maxDelay;
        _time = time;
        // Not security relevant, but a crypto source keeps the analyzer quiet without a suppression.
        _jitter = jitter ?? (() => RandomNumberGenerator.GetInt32(1_000_000) / 1_000_000d);
    }

    /// <summary>Builds the policy from a profile.</summary>
    public static ModelRetryPolicy For(ModelProfile profile, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(profile);
        return new ModelRetryPolicy(profile.MaxRetries, profile.RetryBaseDelay, profile.MaxRetryDelay, time);
    }

    /// <inheritdoc/>
    protected override bool ShouldRetry(PipelineMessage message, Exception? exception)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (Retries(message) >= _maxRetries || message.CancellationToken.IsCancellationRequested)
        {
            return false;
        }

        if (exception is not null)
        {
            // The caller did not cancel (checked above), so a cancellation here is the per-attempt network timeout.
            return exception is IOException or HttpRequestException or TimeoutException or OperationCanceledException;
        }

        if (message.Response is not { } response || response.Status is not (408 or 429 or 500 or 502 or 503 or 504))
        {
            return false;
        }

        return RetryAfter(response) is not { } wait || wait <= _maxDelay;
    }

    /// <inheritdoc/>
    protected override TimeSpan GetNextDelay(PipelineMessage message, int tryCount)
    {
        ArgumentNullException.ThrowIfNull(message);
        // The pipeline passes its retry count so far (0 before the first retry).
        var backoff = Backoff(tryCount);
        return message.Response is { } response && RetryAfter(response) is { } wait && wait > backoff ? wait : backoff;
    }

    /// <summary>The backoff before retry number <paramref name="retry"/> + 1: base·2^retry, "equal jitter" (half fixed,
    /// half random) so synchronized clients spread out, capped.</summary>
    public TimeSpan Backoff(int retry)
    {
        var exponential = _baseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(retry, 16));
        var ms = Math.Min(exponential / 2 + exponential / 2 * _jitter(), _maxDelay.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(ms);
    }

    /// <summary>The wait a response asks for: <c>retry-after-ms</c> (OpenAI, Azure), else <c>Retry-After</c> as seconds or
    /// an HTTP date; null when absent or unreadable.</summary>
    public TimeSpan? RetryAfter(PipelineResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        if (response.Headers.TryGetValue("retry-after-ms", out var ms)
            && double.TryParse(ms, NumberStyles.Float, CultureInfo.InvariantCulture, out var millis) && millis >= 0)
        {
            return TimeSpan.FromMilliseconds(millis);
        }

        if (!response.Headers.TryGetValue("Retry-After", out var value) || string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0)
        {
            return TimeSpan.FromSeconds(seconds);
        }

        if (DateTimeOffset.TryParseExact(value.Trim(), "r", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
        {
            var wait = at - _time.GetUtcNow();
            return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        }

        return null;
    }

    /// <inheritdoc/>
    protected override void OnTryComplete(PipelineMessage message)
    {
        // PipelineMessage.RetryCount is internal to System.ClientModel, so the policy keeps its own count on the message.
        ArgumentNullException.ThrowIfNull(message);
        message.SetProperty(typeof(RetryCountKey), Retries(message) + 1);
    }

    private static int Retries(PipelineMessage message) =>
        message.TryGetProperty(typeof(RetryCountKey), out var value) && value is int n ? n : 0;

    /// <inheritdoc/>
    protected override async Task WaitAsync(TimeSpan time, CancellationToken cancellationToken) =>
        await Task.Delay(time, _time, cancellationToken);

    /// <inheritdoc/>
    protected override void Wait(TimeSpan time, CancellationToken cancellationToken) =>
        Task.Delay(time, _time, cancellationToken).GetAwaiter().GetResult();

    private sealed class RetryCountKey;
}
