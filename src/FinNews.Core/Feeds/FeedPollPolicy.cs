using System.Globalization;
using System.Security.Cryptography;

namespace FinNews.Core.Feeds;

/// <summary>When feeds are polled again after success and failure, and how many are fetched at once.</summary>
public sealed class PollOptions
{
    /// <summary>Delay after the first consecutive failure, in seconds; it doubles with each further failure.</summary>
    public int BackoffBaseSeconds { get; set; } = 300;

    /// <summary>Longest delay between attempts on a failing feed, in seconds (before jitter).</summary>
    public int BackoffMaxSeconds { get; set; } = 6 * 3600;

    /// <summary>Jitter as a fraction of the backoff delay (0.2 = ±20 %), so failing feeds do not retry in lockstep.</summary>
    public double JitterFraction { get; set; } = 0.2;

    /// <summary>A feed failing continuously for this many days is paused (kept, not polled) until resumed.</summary>
    public int PauseAfterDays { get; set; } = 7;

    /// <summary>Longest Retry-After honoured, in seconds; a longer one is shortened to this.</summary>
    public int MaxRetryAfterSeconds { get; set; } = 24 * 3600;

    /// <summary>Feeds fetched at the same time in one pass.</summary>
    public int MaxConcurrentFeeds { get; set; } = 4;

    /// <summary>Fetches to the same host at the same time.</summary>
    public int MaxConcurrentPerHost { get; set; } = 2;
}

/// <summary>A server's Retry-After: a delay, or an absolute time.</summary>
/// <param name="Delay">Retry-After in seconds form.</param>
/// <param name="Date">Retry-After in HTTP-date form.</param>
public sealed record RetryAfter(TimeSpan? Delay, DateTimeOffset? Date);

/// <summary>The feed-row changes after a failed fetch.</summary>
/// <param name="FirstFailureAt">Start of the current failure streak.</param>
/// <param name="NextPollAt">Not polled again before this.</param>
/// <param name="RetryAfterUntil">The server's Retry-After as an absolute time (capped), if it sent one.</param>
/// <param name="PausedReason">Set when the feed is paused by this failure.</param>
public sealed record FeedFailurePlan(
    int ErrorCount,
    DateTimeOffset FirstFailureAt,
    DateTimeOffset NextPollAt,
    DateTimeOffset? RetryAfterUntil,
    string? PausedReason)
{
    /// <summary>True when this failure pauses the feed.</summary>
    public bool Paused => PausedReason is not null;
}

/// <summary>
/// Computes a feed's schedule: the normal interval after a success, exponential backoff with jitter after failures,
/// Retry-After honoured, and a pause after a long failure streak.
/// </summary>
public sealed class FeedPollPolicy
{
    private readonly PollOptions _options;
    private readonly TimeProvider _time;
    private readonly Func<double> _unit;

    /// <param name="options">Backoff and pause settings.</param>
    /// <param name="time">The clock.</param>
    /// <param name="jitter">A source of values in [0, 1); 0.5 means no jitter. Random when null.</param>
    public FeedPollPolicy(PollOptions options, TimeProvider time, Func<double>? jitter = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        _options = options;
        _time = time;
        // Jitter only spreads load; it needs no unpredictability, but the crypto source avoids a shared, non-thread-safe Random.
        _unit = jitter ?? (() => RandomNumberGenerator.GetInt32(int.MaxValue) / (double)int.MaxValue);
    }

    /// <summary>The settings in use.</summary>
    public PollOptions Options => _options;

    /// <summary>The current time.</summary>
    public DateTimeOffset Now => _time.GetUtcNow();

    /// <summary>True when the feed should be polled by a scheduled pass now: not paused and its next poll time has come.</summary>
    public bool IsDue(FeedState? state) =>
        state is null || (!state.Paused && (state.NextPollAt is not { } next || next <= Now));

    /// <summary>Next poll after a success (200 or 304): the feed's own interval.</summary>
    public DateTimeOffset AfterSuccess(FeedDefinition feed)
    {
        ArgumentNullException.ThrowIfNull(feed);
        return Now.AddMinutes(feed.IntervalMinutes);
    }

    /// <summary>
    /// The schedule after a failure: delay = min(base × 2^(errors-1), max) ± jitter, never sooner than the feed's normal
    /// interval (a failing publisher is not polled more often than a healthy one) nor before the server's Retry-After;
    /// paused when the streak has lasted <see cref="PollOptions.PauseAfterDays"/>.
    /// </summary>
    public FeedFailurePlan AfterFailure(FeedDefinition feed, FeedState? state, string error, RetryAfter? retryAfter)
    {
        ArgumentNullException.ThrowIfNull(feed);
        var now = Now;
        var errors = (state?.ErrorCount ?? 0) + 1;
        var firstFailure = state?.FirstFailureAt ?? now;

        // 2^(errors-1) overflows nothing: the exponent is clamped well past the point where max wins.
        var delay = Math.Min(_options.BackoffBaseSeconds * Math.Pow(2, Math.Min(errors - 1, 40)), _options.BackoffMaxSeconds);
        delay += delay * _options.JitterFraction * ((_unit() * 2) - 1);
        delay = Math.Max(delay, feed.IntervalMinutes * 60.0);
        var next = now.AddSeconds(delay);

        DateTimeOffset? until = null;
        if (retryAfter is not null)
        {
            var asked = retryAfter.Date ?? now + (retryAfter.Delay ?? TimeSpan.Zero);
            var cap = now.AddSeconds(_options.MaxRetryAfterSeconds);
            until = asked > cap ? cap : asked;
            if (until > next)
            {
                next = until.Value;
            }
        }

        string? paused = null;
        if (now - firstFailure >= TimeSpan.FromDays(_options.PauseAfterDays))
        {
            paused = string.Create(CultureInfo.InvariantCulture,
                $"Paused after {errors} failed fetches since {firstFailure:yyyy-MM-dd HH:mm} UTC (over {_options.PauseAfterDays} days); last error: {error}");
        }

        return new FeedFailurePlan(errors, firstFailure, next, until, paused);
    }
}
