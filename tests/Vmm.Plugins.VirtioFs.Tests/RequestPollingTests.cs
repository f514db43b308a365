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
}
