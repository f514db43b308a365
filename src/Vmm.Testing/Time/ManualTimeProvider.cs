namespace Vmm.Testing.Time;

/// <summary>
/// A clock that moves only when a test says so, for devices and protocols that take a <see cref="TimeProvider"/>:
/// rate-limit periods, heartbeats, start-up waits and timeouts become deterministic on a loaded machine. Timers made
/// by <see cref="TimeProvider.CreateTimer"/> fire on the thread that calls <see cref="Advance"/>, in due order, once
/// their due time is reached (a timer due now fires at the next <see cref="Advance"/>, even by zero).
/// </summary>
public sealed class ManualTimeProvider : TimeProvider
{
    private readonly Lock _sync = new();
    private readonly List<ManualTimer> _timers = [];
    private long _ticks = TimeSpan.TicksPerDay;

    /// <inheritdoc />
    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    /// <inheritdoc />
    public override long GetTimestamp() => Interlocked.Read(ref _ticks);

    /// <inheritdoc />
    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _ticks), TimeSpan.Zero);

    /// <summary>Moves the clock on and runs the callbacks of the timers that came due, each at its due time.</summary>
    public void Advance(TimeSpan by)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(by, TimeSpan.Zero);
        long target = Interlocked.Read(ref _ticks) + by.Ticks;
        while (NextDue(target) is { } timer)
        {
            timer.Fire();
        }

        Interlocked.Exchange(ref _ticks, target);
    }

    /// <summary>Moves the clock on by whole milliseconds.</summary>
    public void AdvanceMs(int milliseconds) => Advance(TimeSpan.FromMilliseconds(milliseconds));

    /// <inheritdoc />
    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        ArgumentNullException.ThrowIfNull(callback);
        var timer = new ManualTimer(this, callback, state);
        lock (_sync)
        {
            _timers.Add(timer);
        }

        timer.Change(dueTime, period);
        return timer;
    }

    // The earliest timer due at or before target; the clock is set to its due time so its callback sees that time.
    private ManualTimer? NextDue(long target)
    {
        lock (_sync)
        {
            ManualTimer? next = null;
            foreach (ManualTimer timer in _timers)
            {
                if (timer.DueAt is { } due && due <= target && (next is null || due < next.DueAt))
                {
                    next = timer;
                }
            }

            if (next is not null)
            {
                Interlocked.Exchange(ref _ticks, Math.Max(next.DueAt!.Value, Interlocked.Read(ref _ticks)));
                next.TakeDue();
            }

            return next;
        }
    }

    private void Remove(ManualTimer timer)
    {
        lock (_sync)
        {
            _timers.Remove(timer);
        }
    }

    private sealed class ManualTimer(ManualTimeProvider clock, TimerCallback callback, object? state) : ITimer
    {
        private long _period;

        /// <summary>When it fires next, in the clock's ticks; null while stopped. Read and written under the clock's lock.</summary>
        public long? DueAt;

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (clock._sync)
            {
                DueAt = dueTime == Timeout.InfiniteTimeSpan ? null : clock.GetTimestamp() + Math.Max(0, dueTime.Ticks);
                _period = period == Timeout.InfiniteTimeSpan || period <= TimeSpan.Zero ? 0 : period.Ticks;
            }

            return true;
        }

        // Called under the clock's lock when the timer fires: a periodic timer is due again one period on.
        public void TakeDue() => DueAt = _period > 0 ? DueAt + _period : null;

        public void Fire() => callback(state);

        public void Dispose() => clock.Remove(this);

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
