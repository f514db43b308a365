using Vmm.Contracts.Virtio;
using Vmm.Core.Virtio.Queues;
using Xunit;

namespace Vmm.Core.Tests.Virtio.Queues;

public sealed class SplitVirtqueueNotificationTests
{
    [Fact]
    public void NoNotifyFlagSuppressesKicks()
    {
        using var harness = new QueueHarness(size: 8);
        GuestBuffer[] buffer = [new GuestBuffer(harness.AllocateBuffer(8), 8)];

        harness.Driver.Add(buffer, []);
        Assert.True(harness.Driver.KickNeeded());

        harness.Device.DisableNotifications();
        harness.Driver.Add(buffer, []);
        Assert.False(harness.Driver.KickNeeded());

        Assert.True(harness.Device.EnableNotifications());
        harness.Driver.Add(buffer, []);
        Assert.True(harness.Driver.KickNeeded());
    }

    [Fact]
    public void EventIndexKicksOnlyWhenTheDeviceCaughtUp()
    {
        using var harness = new QueueHarness(size: 8, eventIndex: true);
        GuestBuffer[] buffer = [new GuestBuffer(harness.AllocateBuffer(8), 8)];

        // avail_event starts at 0: the first request crosses it.
        harness.Driver.Add(buffer, []);
        Assert.True(harness.Driver.KickNeeded());

        // The device has not taken it yet, so the next ones need no kick.
        harness.Driver.Add(buffer, []);
        Assert.False(harness.Driver.KickNeeded());

        // The device catches up (avail_event = 2): the next request kicks again.
        harness.Serve();
        harness.Serve();
        harness.Driver.Add(buffer, []);
        Assert.True(harness.Driver.KickNeeded());

        // Several adds before one decision: one kick for the batch when it crosses avail_event.
        harness.Serve();
        harness.Driver.Add(buffer, []);
        harness.Driver.Add(buffer, []);
        Assert.True(harness.Driver.KickNeeded());
    }

    [Fact]
    public void EventIndexDisableStopsKicksAfterTheCurrentEvent()
    {
        using var harness = new QueueHarness(size: 8, eventIndex: true);
        GuestBuffer[] buffer = [new GuestBuffer(harness.AllocateBuffer(8), 8)];
        harness.Driver.Add(buffer, []);
        Assert.True(harness.Driver.KickNeeded());

        harness.Device.DisableNotifications();
        harness.Serve();

        // Polling mode: the device took the request but avail_event did not move.
        harness.Driver.Add(buffer, []);
        Assert.False(harness.Driver.KickNeeded());

        Assert.True(harness.Device.EnableNotifications());
        harness.Serve();
        harness.Driver.Add(buffer, []);
        Assert.True(harness.Driver.KickNeeded());
    }

    [Fact]
    public void EventIndexDisableOnACaughtUpQueueStopsEvenTheNextKick()
    {
        using var harness = new QueueHarness(size: 8, eventIndex: true);
        GuestBuffer[] buffer = [new GuestBuffer(harness.AllocateBuffer(8), 8)];
        harness.Driver.Add(buffer, []);
        Assert.True(harness.Driver.KickNeeded());

        // The device caught up (avail_event = 1, the index the next request crosses) and starts polling: the next
        // request must not kick (a polling back-end sees it anyway; a kick would only wake its poller).
        harness.Serve();
        harness.Device.DisableNotifications();
        harness.Driver.Add(buffer, []);
        Assert.False(harness.Driver.KickNeeded());
        harness.Driver.Add(buffer, []);
        Assert.False(harness.Driver.KickNeeded());

        // Re-armed: the device is told what it missed, serves it, and the next request kicks again.
        Assert.True(harness.Device.EnableNotifications());
        harness.Serve();
        harness.Serve();
        Assert.False(harness.Device.EnableNotifications());
        harness.Driver.Add(buffer, []);
        Assert.True(harness.Driver.KickNeeded());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ARingRestartedWhereItStoppedAsksForKicksAgain(bool eventIndex)
    {
        using var harness = new QueueHarness(size: 8, eventIndex: eventIndex);
        GuestBuffer[] buffer = [new GuestBuffer(harness.AllocateBuffer(8), 8)];
        harness.Driver.Add(buffer, []);
        Assert.True(harness.Driver.KickNeeded());
        harness.Serve();

        // A poll cut short by a stop (vhost-user GET_VRING_BASE): the ring in guest memory still says "no kicks".
        harness.Device.DisableNotifications();
        ushort stoppedAt = harness.Device.NextAvailableIndex;
        harness.Device.Reset();

        // Started again over the same ring from where it stopped (SET_VRING_BASE): the driver must kick again.
        var restarted = new SplitVirtqueue(harness.Memory, 0, 256, harness.Interrupt);
        Assert.True(restarted.TrySetSize(8));
        restarted.DescriptorTableAddress = harness.Driver.DescriptorTableAddress;
        restarted.AvailableRingAddress = harness.Driver.AvailableRingAddress;
        restarted.UsedRingAddress = harness.Driver.UsedRingAddress;
        restarted.NextAvailableIndex = stoppedAt;
        restarted.NextUsedIndex = stoppedAt;
        restarted.Enable(harness.Features);
        harness.Driver.Add(buffer, []);
        Assert.True(harness.Driver.KickNeeded());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void EnableNotificationsReportsRequestsThatArrivedWhileDisabled(bool eventIndex)
    {
        using var harness = new QueueHarness(size: 8, eventIndex: eventIndex);
        GuestBuffer[] buffer = [new GuestBuffer(harness.AllocateBuffer(8), 8)];

        harness.Device.DisableNotifications();
        Assert.False(harness.Device.EnableNotifications());

        // The race the re-check closes: the driver adds while notifications are off, decides not to kick, and the
        // device must find the request when it re-enables instead of going to sleep.
        harness.Device.DisableNotifications();
        harness.Driver.Add(buffer, []);
        harness.Driver.KickNeeded();
        Assert.True(harness.Device.EnableNotifications());
        harness.Serve();
        Assert.False(harness.Device.EnableNotifications());
    }

    [Fact]
    public void NoInterruptFlagSuppressesInterrupts()
    {
        using var harness = new QueueHarness(size: 8);
        GuestBuffer[] buffer = [new GuestBuffer(harness.AllocateBuffer(8), 8)];

        harness.Driver.Add([], buffer);
        harness.Serve();
        harness.Device.NotifyGuest();
        Assert.Equal(1, harness.Interrupt.Count);

        // Nothing new pushed: no interrupt.
        harness.Device.NotifyGuest();
        Assert.Equal(1, harness.Interrupt.Count);

        harness.Driver.DisableInterrupts();
        harness.Driver.Add([], buffer);
        harness.Serve();
        harness.Device.NotifyGuest();
        Assert.Equal(1, harness.Interrupt.Count);

        harness.Driver.EnableInterrupts();
        Assert.True(harness.Driver.HasPendingUsed);
        harness.Driver.Add([], buffer);
        harness.Serve();
        harness.Device.NotifyGuest();
        Assert.Equal(2, harness.Interrupt.Count);
    }

    [Fact]
    public void EventIndexInterruptsOnlyWhenUsedEventIsCrossed()
    {
        using var harness = new QueueHarness(size: 8, eventIndex: true);
        GuestBuffer[] buffer = [new GuestBuffer(harness.AllocateBuffer(8), 8)];

        // First notification after enable always goes out.
        harness.Driver.Add([], buffer);
        harness.Serve();
        harness.Device.NotifyGuest();
        Assert.Equal(1, harness.Interrupt.Count);

        // The driver has not consumed anything: used_event is still 0, so no interrupt for the second push.
        harness.Driver.Add([], buffer);
        harness.Serve();
        harness.Device.NotifyGuest();
        Assert.Equal(1, harness.Interrupt.Count);

        // The driver consumes both (used_event = 2); the next push crosses it.
        Assert.True(harness.Driver.TryGetUsed(out _, out _));
        Assert.True(harness.Driver.TryGetUsed(out _, out _));
        harness.Driver.Add([], buffer);
        harness.Serve();
        harness.Device.NotifyGuest();
        Assert.Equal(2, harness.Interrupt.Count);

        // Interrupts disabled with EVENT_IDX: used_event points behind.
        Assert.True(harness.Driver.TryGetUsed(out _, out _));
        harness.Driver.DisableInterrupts();
        harness.Driver.Add([], buffer);
        harness.Serve();
        harness.Device.NotifyGuest();
        Assert.Equal(2, harness.Interrupt.Count);

        harness.Driver.EnableInterrupts();
        Assert.True(harness.Driver.HasPendingUsed);
        Assert.True(harness.Driver.TryGetUsed(out _, out _));
        harness.Driver.Add([], buffer);
        harness.Serve();
        harness.Device.NotifyGuest();
        Assert.Equal(3, harness.Interrupt.Count);
    }

    [Fact]
    public void NotReadyQueueDoesNothing()
    {
        using var harness = new QueueHarness(size: 8);
        harness.Device.Reset();
        Assert.False(harness.Device.TryPop(out _));
        harness.Device.NotifyGuest();
        harness.Device.DisableNotifications();
        Assert.False(harness.Device.EnableNotifications());
        Assert.Equal(0, harness.Interrupt.Count);
    }
}
