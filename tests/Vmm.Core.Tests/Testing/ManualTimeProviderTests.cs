using Vmm.Testing.Time;
using Xunit;

namespace Vmm.Core.Tests.Testing;

public sealed class ManualTimeProviderTests
{
    [Fact]
    public void A_timer_fires_once_its_due_time_is_reached_and_sees_that_time()
    {
        var clock = new ManualTimeProvider();
        long start = clock.GetTimestamp();
        var firedAt = new List<TimeSpan>();
        using ITimer timer = clock.CreateTimer(_ => firedAt.Add(clock.GetElapsedTime(start)), null, TimeSpan.FromMilliseconds(10), Timeout.InfiniteTimeSpan);

        clock.AdvanceMs(9);
        Assert.Empty(firedAt);

        clock.AdvanceMs(5);
        Assert.Equal([TimeSpan.FromMilliseconds(10)], firedAt);
        Assert.Equal(TimeSpan.FromMilliseconds(14), clock.GetElapsedTime(start));

        clock.AdvanceMs(100);
        Assert.Single(firedAt);
    }

    [Fact]
    public void A_periodic_timer_fires_each_period_and_timers_fire_in_due_order()
    {
        var clock = new ManualTimeProvider();
        var fired = new List<string>();
        using ITimer periodic = clock.CreateTimer(_ => fired.Add("p"), null, TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(10));
        using ITimer once = clock.CreateTimer(_ => fired.Add("o"), null, TimeSpan.FromMilliseconds(15), Timeout.InfiniteTimeSpan);

        clock.AdvanceMs(35);

        Assert.Equal(["p", "o", "p", "p"], fired);
    }

    [Fact]
    public void A_stopped_or_disposed_timer_does_not_fire_and_a_callback_may_rearm_its_timer()
    {
        var clock = new ManualTimeProvider();
        int stopped = 0, disposed = 0, rearmed = 0;
        using ITimer stop = clock.CreateTimer(_ => stopped++, null, TimeSpan.FromMilliseconds(5), Timeout.InfiniteTimeSpan);
        ITimer dispose = clock.CreateTimer(_ => disposed++, null, TimeSpan.FromMilliseconds(5), Timeout.InfiniteTimeSpan);
        ITimer? again = null;
        again = clock.CreateTimer(_ =>
        {
            if (++rearmed < 3)
            {
                again!.Change(TimeSpan.FromMilliseconds(5), Timeout.InfiniteTimeSpan);
            }
        }, null, TimeSpan.FromMilliseconds(5), Timeout.InfiniteTimeSpan);

        stop.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        dispose.Dispose();
        clock.AdvanceMs(100);

        Assert.Equal((0, 0, 3), (stopped, disposed, rearmed));
        again.Dispose();
    }
}
