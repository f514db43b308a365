namespace Vmm.Plugins.VirtioFs;

/// <summary>
/// How long a request queue thread busy-polls its ring before it sleeps. Polling pays only while requests arrive
/// faster than a sleep and wake-up cost; the longest window stands for that cost. So the window follows how long the
/// thread last slept before a request woke it: within the longest window, a poll would have caught that request
/// without a kick and a wake-up, and the window grows (from an eighth of the longest, doubling up to it, as KVM's halt
/// polling grows <c>halt_poll_ns</c>); longer, and the poll was CPU spent for nothing, so polling stops at once until a
/// request comes quickly again. A queue busy at queue depth 1 ends up polling; an idle one, or one whose requests come
/// milliseconds apart (a guest under TCG), does not poll at all.
/// Times are in <see cref="System.Diagnostics.Stopwatch"/> ticks; it holds no clock, so it is tested without one.
/// </summary>
internal sealed class RequestPollWindow
{
    private readonly long _maxTicks;
    private readonly long _startTicks;

    /// <summary>A window of at most <paramref name="maxTicks"/> (0: never poll), starting closed.</summary>
    public RequestPollWindow(long maxTicks)
    {
        _maxTicks = Math.Max(0, maxTicks);
        _startTicks = Math.Max(1, _maxTicks / 8);
    }

    /// <summary>The window for the next poll; 0 means sleep at once.</summary>
    public long Ticks { get; private set; }

    /// <summary>
    /// The thread slept <paramref name="sleptTicks"/> (after a poll that found nothing, or none) until a request woke
    /// it. A wake-up that found no request says nothing about the requests' pace and is not reported.
    /// </summary>
    public void Slept(long sleptTicks)
    {
        if (_maxTicks == 0)
        {
            return;
        }

        // Within the longest window a poll would have caught the request: poll longer next time. Beyond it, polling
        // only burnt CPU that a wake-up would have saved: stop.
        Ticks = sleptTicks <= _maxTicks ? Math.Min(_maxTicks, Math.Max(_startTicks, Ticks * 2)) : 0;
    }
}
