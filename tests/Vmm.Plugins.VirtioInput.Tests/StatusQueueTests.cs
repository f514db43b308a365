using Vmm.Contracts.Input;
using Xunit;

namespace Vmm.Plugins.VirtioInput.Tests;

/// <summary>What the guest writes on statusq (keyboard LEDs) and what it must not be able to do with it.</summary>
public sealed class StatusQueueTests
{
    private static readonly InputEvent s_capsLockOn = new(InputEventTypes.Led, 1, 1);

    [Fact]
    public void An_led_event_reaches_the_router_and_the_buffer_comes_back_empty()
    {
        var router = new RecordingInputRouter();
        using var harness = new InputDeviceHarness(router: router);

        harness.SendStatus(InputDeviceHarness.EncodeEvent(s_capsLockOn));

        Assert.Equal([("input0", s_capsLockOn)], router.Statuses);
        Assert.True(harness.Drivers[VirtioInputDevice.StatusQueue].TryGetUsed(out _, out uint length));
        Assert.Equal(0u, length);
        Assert.Equal(1, harness.Interrupts[VirtioInputDevice.StatusQueue].Count);
    }

    [Fact]
    public void Several_status_events_arrive_in_order()
    {
        var router = new RecordingInputRouter();
        using var harness = new InputDeviceHarness(router: router);
        InputEvent[] leds = [new(InputEventTypes.Led, 0, 1), new(InputEventTypes.Led, 1, 0), new(InputEventTypes.Led, 2, 1)];

        foreach (InputEvent led in leds)
        {
            harness.Drivers[VirtioInputDevice.StatusQueue].Add([Buffer(harness, InputDeviceHarness.EncodeEvent(led))], []);
        }

        harness.Device.ProcessQueue(VirtioInputDevice.StatusQueue);

        Assert.Equal(leds, router.Statuses.Select(s => s.Status));
    }

    [Theory]
    [InlineData(0, 8)]
    [InlineData(4, 0)]
    [InlineData(7, 0)]
    [InlineData(9, 0)]
    [InlineData(16, 0)]
    [InlineData(8, 8)]
    public void Garbage_buffers_are_consumed_counted_and_never_reported(int readable, int writable)
    {
        var router = new RecordingInputRouter();
        using var harness = new InputDeviceHarness(router: router);
        byte[] bytes = new byte[readable];
        Array.Fill(bytes, (byte)0x11);

        harness.SendStatus(bytes, (uint)writable);

        Assert.Empty(router.Statuses);
        Assert.Equal(1, harness.Device.InvalidStatusBuffers);
        Assert.True(harness.Drivers[VirtioInputDevice.StatusQueue].TryGetUsed(out _, out uint length));
        Assert.Equal(0u, length);
    }

    [Fact]
    public void An_event_split_over_two_descriptors_is_still_one_event()
    {
        var router = new RecordingInputRouter();
        using var harness = new InputDeviceHarness(router: router);
        byte[] wire = InputDeviceHarness.EncodeEvent(s_capsLockOn);

        harness.Drivers[VirtioInputDevice.StatusQueue].Add([Buffer(harness, wire[..3]), Buffer(harness, wire[3..])], []);
        harness.Device.ProcessQueue(VirtioInputDevice.StatusQueue);

        Assert.Equal([("input0", s_capsLockOn)], router.Statuses);
    }

    [Fact]
    public void Garbage_between_good_events_does_not_stop_the_queue()
    {
        var router = new RecordingInputRouter();
        using var harness = new InputDeviceHarness(router: router);
        var status = harness.Drivers[VirtioInputDevice.StatusQueue];

        status.Add([Buffer(harness, InputDeviceHarness.EncodeEvent(s_capsLockOn))], []);
        status.Add([Buffer(harness, [1, 2, 3])], []);
        status.Add([Buffer(harness, InputDeviceHarness.EncodeEvent(new InputEvent(InputEventTypes.Led, 0, 1)))], []);
        harness.Device.ProcessQueue(VirtioInputDevice.StatusQueue);

        Assert.Equal(2, router.Statuses.Count);
        Assert.Equal(1, harness.Device.InvalidStatusBuffers);
        Assert.Equal(3, Enumerable.Range(0, 3).Count(i => status.TryGetUsed(out _, out _)));
    }

    [Fact]
    public void Without_a_router_status_buffers_are_still_consumed()
    {
        using var harness = new InputDeviceHarness();

        harness.SendStatus(InputDeviceHarness.EncodeEvent(s_capsLockOn));

        Assert.True(harness.Drivers[VirtioInputDevice.StatusQueue].TryGetUsed(out _, out _));
    }

    [Fact]
    public void The_device_registers_with_the_router_and_leaves_on_dispose()
    {
        var router = new RecordingInputRouter();
        var harness = new InputDeviceHarness(router: router);
        Assert.Same(harness.Device, Assert.Single(router.Targets));
        Assert.Equal(InputDeviceKind.Keyboard, router.Targets[0].Kind);

        harness.Dispose();

        Assert.Empty(router.Targets);
    }

    private static Contracts.Virtio.GuestBuffer Buffer(InputDeviceHarness harness, byte[] bytes)
    {
        ulong address = harness.Allocator.Allocate((ulong)bytes.Length, 8);
        harness.Memory.Write(address, bytes);
        return new Contracts.Virtio.GuestBuffer(address, (uint)bytes.Length);
    }
}
