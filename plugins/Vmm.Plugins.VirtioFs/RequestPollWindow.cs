namespace Vmm.Plugins.VirtioFs;

/// <summary>
/// How long a request queue thread busy-polls its ring before it sleeps, adapted the way KVM's halt polling adapts
/// (<c>halt_poll_ns</c>): when the next request came within the longest window after the thread went to sleep, a
/// longer poll would have caught it without a kick and a wake-up, so the window doubles (up to the longest); when
/// the thread slept longer than that, the poll was wasted CPU, so it halves and drops to 0 below its start. A queue
/// that is busy at queue depth 1 ends up polling; an idle one, or one whose requests come milliseconds apart (a guest
/// under TCG), stops after a few sleeps. Only a wake-up that found a request is reported (<see cref="Slept"/>): a
/// kick left over from a request the thread already served says nothing about how fast requests come, and counted
/// as a short sleep it would keep the window open for a slow guest.
/// Times are in <see cref="System.Diagnostics.Stopwatch"/> ticks; it holds no clock, so it is tested without one.
/// </summary>
internal sealed class RequestPollWindow
{
    private readonly long _maxTicks;
    private readonly long _startTicks;

    /// <summary>A window of at most <paramref name="maxTicks"/> (0: never poll), starting at the longest.</summary>
    public RequestPollWindow(long maxTicks)
    {
        _maxTicks = Math.Max(0, maxTicks);
        _startTicks = Math.Max(1, _maxTicks / 8);
        Ticks = _maxTicks;
    }

    /// <summary>The window for the next poll; 0 means sleep at once.</summary>
    public long Ticks { get; private set; }

    /// <summary>The thread slept <paramref name="sleptTicks"/> (after a poll that found nothing, or none) until a request woke it.</summary>
    public void Slept(long sleptTicks)
    {
        if (_maxTicks == 0)
        {
            return;
        }

        if (sleptTicks <= _maxTicks)
        {
            // The request came soon after the thread gave up: poll longer next time.
            Ticks = Math.Min(_maxTicks, Math.Max(_startTicks, Ticks * 2));
        }
        else
        {
            // Nothing came for longer than any poll would wait: polling only burnt CPU.
            Ticks = Ticks / 2 < _startTicks ? 0 : Ticks / 2;
        }
    }
}
