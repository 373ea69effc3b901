using System.Collections.Concurrent;

namespace FinNews.Core.Access;

/// <summary>
/// A fixed one-minute window per API key: at most <see cref="ApiKey.RequestsPerMinute"/> requests per window, counted
/// in memory (per process), on the given clock.
/// </summary>
public sealed class ApiKeyRateLimiter
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<long, Counter> _counters = new();

    public ApiKeyRateLimiter(TimeProvider time) => _time = time;

    /// <summary>Counts one request for <paramref name="key"/>; false with the wait until its window resets when over the limit.</summary>
    public bool TryAcquire(ApiKey key, out TimeSpan retryAfter)
    {
        ArgumentNullException.ThrowIfNull(key);
        var now = _time.GetUtcNow();
        var counter = _counters.GetOrAdd(key.Id, _ => new Counter());
        lock (counter)
        {
            if (now - counter.WindowStart >= Window || now < counter.WindowStart)
            {
                counter.WindowStart = now;
                counter.Count = 0;
            }

            if (counter.Count < key.RequestsPerMinute)
            {
                counter.Count++;
                retryAfter = TimeSpan.Zero;
                return true;
            }

            retryAfter = counter.WindowStart + Window - now;
            return false;
        }
    }

    private sealed class Counter
    {
        public DateTimeOffset WindowStart { get; set; } = DateTimeOffset.MinValue;

        public int Count { get; set; }
    }
}
