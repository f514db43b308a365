using Microsoft.Win32.SafeHandles;

namespace Vmm.Plugins.VirtioFs.Tests;

/// <summary>
/// The request thread's busy-poll: its window adapts as KVM's halt polling does, and a queue served by polling (the
/// driver's kicks off while the thread looks) answers every request, also one that comes after the thread went back
/// to sleep and re-armed the kicks. No timing is asserted: the window is driven with made-up sleep lengths.
/// </summary>
public sealed class RequestPollingTests : IDisposable
{
    private readonly TempShare _share = new();

    public void Dispose() => _share.Dispose();

    [Fact]
    public void AZeroWindowNeverPolls()
    {
        var window = new RequestPollWindow(0);
        Assert.Equal(0, window.Ticks);
        window.Slept(1);
        window.Slept(1_000_000);
        Assert.Equal(0, window.Ticks);
    }

    [Fact]
    public void LongSleepsShrinkTheWindowToNothingAndShortOnesGrowItBack()
    {
        var window = new RequestPollWindow(800);
        Assert.Equal(800, window.Ticks);

        // Nothing came for longer than any poll: halve, and stop below the start (800 / 8 = 100).
        window.Slept(801);
        Assert.Equal(400, window.Ticks);
        window.Slept(5000);
        Assert.Equal(200, window.Ticks);
        window.Slept(5000);
        Assert.Equal(100, window.Ticks);
        window.Slept(5000);
        Assert.Equal(0, window.Ticks);

        // A request came soon after the thread gave up: start again, then double up to the longest.
        window.Slept(800);
        Assert.Equal(100, window.Ticks);
        window.Slept(10);
        Assert.Equal(200, window.Ticks);
        window.Slept(10);
        window.Slept(10);
        Assert.Equal(800, window.Ticks);
        window.Slept(10);
        Assert.Equal(800, window.Ticks);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(VirtioFsOptions.DefaultRequestPollMicroseconds)]
    [InlineData(VirtioFsDeviceFactory.MaxRequestPollMicroseconds)]
    public void EveryRequestIsAnsweredWhetherTheThreadPollsOrSleeps(int pollMicroseconds)
    {
        File.WriteAllText(_share.InShare("f"), "data");
        using FuseTestClient client = FuseTestClient.Start(_share.Share, new VirtioFsOptions { RequestPollMicroseconds = pollMicroseconds });
        client.Init().Ok();
        ulong node = client.LookupNode(1, "f");
        for (int round = 0; round < 3; round++)
        {
            // Back to back: the thread finds most of these while it polls, with kicks off.
            for (int i = 0; i < 200; i++)
            {
                client.GetAttr(node).Ok();
            }

            // Idle past any window: the thread re-armed the kicks and sleeps; the next request must wake it.
            Thread.Sleep(20);
            client.GetAttr(node).Ok();
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(VirtioFsOptions.DefaultRequestPollMicroseconds)]
    public void A_thread_that_waits_on_its_notifier_is_woken_by_it_alone_and_lets_it_go(int pollMicroseconds)
    {
        File.WriteAllText(_share.InShare("f"), "data");
        using FuseTestClient client = FuseTestClient.Start(_share.Share, new VirtioFsOptions { RequestPollMicroseconds = pollMicroseconds });
        client.Init().Ok();
        ulong node = client.LookupNode(1, "f");

        // The platform hands over the request queue's eventfd; from now on requests are posted with no doorbell
        // write, only a kick on that eventfd (as a vhost-user front-end does), so the thread must wait on it.
        using SafeFileHandle notifier = QueueWakeTests.NewEventFd();
        Assert.True(client.FsDevice.TryTakeNotifier(FuseTestClient.RequestQueue, notifier));
        client.Kick = () => QueueWakeTests.Write(notifier, 1);
        for (int round = 0; round < 3; round++)
        {
            for (int i = 0; i < 50; i++)
            {
                client.GetAttr(node).Ok();
            }

            // Idle past any window: the thread re-armed the kicks and sleeps on the notifier.
            Thread.Sleep(20);
            client.GetAttr(node).Ok();
        }

        // Taken back: the doorbell path serves again, and once a request has been answered after the release the
        // thread never reads the eventfd again (a kick left on it stays there).
        client.FsDevice.ReleaseNotifier(FuseTestClient.RequestQueue);
        client.Kick = null;
        client.GetAttr(node).Ok();
        QueueWakeTests.Write(notifier, 1);
        client.GetAttr(node).Ok();
        Assert.Equal(1UL, QueueWakeTests.ReadOrZero(notifier));
    }

    [Fact]
    public void Hiprio_waits_on_its_own_notifier_and_a_kick_there_alone_serves_a_forget()
    {
        File.WriteAllText(_share.InShare("f"), "data");
        using FuseTestClient client = FuseTestClient.Start(_share.Share);
        client.Init().Ok();

        // As over vhost-user: hiprio's kick eventfd is handed over and FORGETs are posted with no doorbell write,
        // only a kick on it, so hiprio's thread must be the one that waits on it (the device worker never hears).
        using SafeFileHandle notifier = QueueWakeTests.NewEventFd();
        Assert.True(client.FsDevice.TryTakeNotifier(FuseTestClient.HiprioQueue, notifier));
        client.HiprioKick = () => QueueWakeTests.Write(notifier, 1);
        for (int round = 0; round < 3; round++)
        {
            ulong node = client.LookupNode(1, "f");
            client.Forget(node, 1);
            Assert.Equal(-Errno.ENOENT, client.GetAttr(node).Error);
            Thread.Sleep(20);
        }

        // Taken back: the doorbell path serves FORGETs again.
        client.FsDevice.ReleaseNotifier(FuseTestClient.HiprioQueue);
        client.HiprioKick = null;
        ulong last = client.LookupNode(1, "f");
        client.Forget(last, 1);
        Assert.Equal(-Errno.ENOENT, client.GetAttr(last).Error);
    }
}
