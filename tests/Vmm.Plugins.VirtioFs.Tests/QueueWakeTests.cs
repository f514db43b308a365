using Microsoft.Win32.SafeHandles;
using Tmds.Linux;
using Vmm.Plugins.VirtioFs.Host;

namespace Vmm.Plugins.VirtioFs.Tests;

/// <summary>
/// What a request queue's thread sleeps on. Every wait here has something to return for already, so nothing blocks
/// and nothing is timed.
/// </summary>
public sealed class QueueWakeTests
{
    [Fact]
    public void A_signal_wakes_the_wait_and_is_not_a_notification()
    {
        using var wake = new QueueWake();
        using SafeFileHandle notifier = NewEventFd();
        wake.Signal();
        wake.Signal();
        Assert.False(wake.Wait(notifier));

        // Both signals were cleared by the one wake-up: the next signal is the only one a wait sees.
        wake.Signal();
        Assert.False(wake.Wait(null));
    }

    [Fact]
    public void A_notification_wakes_the_wait_and_is_cleared()
    {
        using var wake = new QueueWake();
        using SafeFileHandle notifier = NewEventFd();
        Write(notifier, 3);
        Assert.True(wake.Wait(notifier));
        Assert.Equal(0UL, ReadOrZero(notifier));

        // Signal and notification together: reported as a notification, both cleared.
        Write(notifier, 1);
        wake.Signal();
        Assert.True(wake.Wait(notifier));
        Assert.Equal(0UL, ReadOrZero(notifier));
        wake.Signal();
        Assert.False(wake.Wait(notifier));
    }

    [Fact]
    public void A_notifier_the_platform_disposed_is_not_waited_on()
    {
        using var wake = new QueueWake();
        SafeFileHandle notifier = NewEventFd();
        Write(notifier, 1);
        notifier.Dispose();
        wake.Signal();
        Assert.False(wake.Wait(notifier));
    }

    [Fact]
    public void A_notifier_is_taken_by_a_request_thread_and_given_back()
    {
        using var share = new TempShare();
        using var device = new VirtioFsDevice("fs0", share.Share, new VirtioFsOptions(), Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance, meterFactory: null);
        using SafeFileHandle notifier = NewEventFd();

        // Hiprio and each request queue are served by a thread of their own; queues past the last are not ours.
        Assert.True(device.TryTakeNotifier(0, notifier));
        Assert.True(device.TryTakeNotifier(1, notifier));
        Assert.False(device.TryTakeNotifier(2, notifier));
        device.ReleaseNotifier(0);
        device.ReleaseNotifier(1);
        device.ReleaseNotifier(7);
    }

    internal static SafeFileHandle NewEventFd()
    {
        int fd = LibC.eventfd(0, LibC.EFD_CLOEXEC | LibC.EFD_NONBLOCK);
        Assert.True(fd >= 0, $"eventfd: errno {LibC.errno}");
        return new SafeFileHandle(fd, ownsHandle: true);
    }

    internal static unsafe void Write(SafeFileHandle fd, ulong value)
    {
        Assert.Equal(sizeof(ulong), (int)LibC.write((int)fd.DangerousGetHandle(), &value, sizeof(ulong)));
    }

    /// <summary>The counter, cleared; 0 when it was 0 (EAGAIN).</summary>
    internal static unsafe ulong ReadOrZero(SafeFileHandle fd)
    {
        ulong value = 0;
        return LibC.read((int)fd.DangerousGetHandle(), &value, sizeof(ulong)) == sizeof(ulong) ? value : 0;
    }
}
