namespace Vmm.Plugins.VirtioRng;

/// <summary>
/// A fixed-window byte budget, like QEMU's virtio-rng <c>max-bytes</c>/<c>period</c>: at most
/// <c>maxBytes</c> per period, refilled when a new period starts.
/// </summary>
internal sealed class ByteRateLimiter
{
    private readonly long _maxBytes;
    private readonly TimeSpan _period;
    private readonly TimeProvider _time;
    private long _periodStart;
    private long _used;

    public ByteRateLimiter(long maxBytes, TimeSpan period, TimeProvider time)
    {
        _maxBytes = maxBytes;
        _period = period;
        _time = time;
        _periodStart = time.GetTimestamp();
    }

    /// <summary>The bytes left in the current period (starting a new period when the last one ended).</summary>
    public long Available()
    {
        long now = _time.GetTimestamp();
        if (_time.GetElapsedTime(_periodStart, now) >= _period)
        {
            _periodStart = now;
            _used = 0;
        }

        return _maxBytes - _used;
    }

    public void Consume(long bytes) => _used += bytes;

    /// <summary>How long until the budget is refilled, rounded up to a whole millisecond.</summary>
    /// <remarks>
    /// Timers count whole milliseconds and may fire a fraction of one before a high-resolution timestamp says the
    /// period is over; rounding up keeps such a wake-up from finding the budget still spent and re-arming for ~0 ms.
    /// </remarks>
    public TimeSpan UntilNextPeriod()
    {
        TimeSpan left = _period - _time.GetElapsedTime(_periodStart);
        return left > TimeSpan.Zero ? TimeSpan.FromMilliseconds(Math.Ceiling(left.TotalMilliseconds) + 1) : TimeSpan.Zero;
    }

    public void Reset()
    {
        _periodStart = _time.GetTimestamp();
        _used = 0;
    }
}
