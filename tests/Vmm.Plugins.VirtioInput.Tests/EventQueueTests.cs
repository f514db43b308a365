using System.Diagnostics.Metrics;
using Vmm.Contracts.Input;
using Xunit;

namespace Vmm.Plugins.VirtioInput.Tests;

/// <summary>Events from the host into eventq buffers, through real split virtqueues driven from the guest side.</summary>
public sealed class EventQueueTests
{
    private static readonly InputEvent s_keyADown = new(InputEventTypes.Key, 30, 1);
    private static readonly InputEvent s_keyAUp = new(InputEventTypes.Key, 30, 0);

    [Fact]
    public void A_frame_lands_one_event_per_buffer_and_interrupts_once()
    {
        using var harness = new InputDeviceHarness();
        Dictionary<ushort, ulong> buffers = harness.PostEventBuffers(8).ToDictionary(b => b.Head, b => b.Address);

        harness.Device.Deliver([s_keyADown, InputEvent.SynReport, s_keyAUp, InputEvent.SynReport]);
        harness.Pump();

        var lengths = new List<uint>();
        Assert.Equal([s_keyADown, InputEvent.SynReport, s_keyAUp, InputEvent.SynReport], harness.TakeEvents(buffers, lengths));
        Assert.All(lengths, l => Assert.Equal(8u, l));
        Assert.Equal(1, harness.Interrupts[VirtioInputDevice.EventQueue].Count);
        Assert.Equal(0, harness.Device.PendingEvents);
    }

    [Fact]
    public void Negative_values_are_twos_complement_little_endian_on_the_wire()
    {
        using var harness = new InputDeviceHarness(InputDeviceKind.Mouse);
        List<(ushort Head, ulong Address)> posted = harness.PostEventBuffers(3);

        harness.Device.Deliver([new InputEvent(InputEventTypes.Relative, 0, -5), new InputEvent(InputEventTypes.Relative, 8, -1), InputEvent.SynReport]);
        harness.Pump();

        Assert.Equal("02000000FBFFFFFF", Convert.ToHexString(harness.Memory.GetSpan(posted[0].Address, 8)));
        Assert.Equal("02000800FFFFFFFF", Convert.ToHexString(harness.Memory.GetSpan(posted[1].Address, 8)));
        Assert.Equal("0000000000000000", Convert.ToHexString(harness.Memory.GetSpan(posted[2].Address, 8)));
    }

    [Fact]
    public void Events_wait_for_buffers_posted_later()
    {
        using var harness = new InputDeviceHarness();
        harness.Device.Deliver([s_keyADown, InputEvent.SynReport]);
        harness.Pump();
        Assert.Equal(2, harness.Device.PendingEvents);

        Dictionary<ushort, ulong> buffers = harness.PostEventBuffers(4).ToDictionary(b => b.Head, b => b.Address);

        Assert.Equal([s_keyADown, InputEvent.SynReport], harness.TakeEvents(buffers));
        Assert.Equal(0, harness.Device.DroppedEvents);
    }

    [Fact]
    public void A_frame_is_never_split_across_a_shortage_of_buffers()
    {
        using var harness = new InputDeviceHarness(InputDeviceKind.Mouse);
        var buffers = harness.PostEventBuffers(2).ToDictionary(b => b.Head, b => b.Address);
        InputEvent[] frame = [new(InputEventTypes.Relative, 0, 3), new(InputEventTypes.Relative, 1, 4), InputEvent.SynReport];

        harness.Device.Deliver(frame);
        harness.Pump();
        Assert.Empty(harness.TakeEvents(buffers));

        foreach ((ushort head, ulong address) in harness.PostEventBuffers(1))
        {
            buffers[head] = address;
        }

        Assert.Equal(frame, harness.TakeEvents(buffers));
    }

    [Fact]
    public void An_unterminated_frame_waits_for_its_syn_report()
    {
        using var harness = new InputDeviceHarness();
        var buffers = harness.PostEventBuffers(4).ToDictionary(b => b.Head, b => b.Address);

        harness.Device.Deliver([s_keyADown]);
        harness.Pump();
        Assert.Empty(harness.TakeEvents(buffers));

        harness.Device.Deliver([InputEvent.SynReport]);
        harness.Pump();
        Assert.Equal([s_keyADown, InputEvent.SynReport], harness.TakeEvents(buffers));
    }

    [Fact]
    public void A_frame_longer_than_the_queue_goes_in_queue_sized_pieces()
    {
        using var harness = new InputDeviceHarness(InputDeviceKind.Gamepad, queueSize: 4);
        InputEvent[] frame = [.. Enumerable.Range(0, 6).Select(i => new InputEvent(InputEventTypes.Absolute, (ushort)i, i * 100)), InputEvent.SynReport];
        var buffers = harness.PostEventBuffers(4).ToDictionary(b => b.Head, b => b.Address);

        harness.Device.Deliver(frame);
        harness.Pump();
        List<InputEvent> first = harness.TakeEvents(buffers);
        foreach ((ushort head, ulong address) in harness.PostEventBuffers(3))
        {
            buffers[head] = address;
        }

        Assert.Equal(frame[..4], first);
        Assert.Equal(frame[4..], harness.TakeEvents(buffers));
    }

    [Fact]
    public void Past_the_bound_the_oldest_whole_frames_are_dropped_and_counted()
    {
        using var harness = new InputDeviceHarness(queueBound: 16);
        using var meters = new DropMeter(harness.MeterFactory);
        InputEvent[] Frame(int i) => [new(InputEventTypes.Key, (ushort)(2 + i), 1), InputEvent.SynReport];

        for (int i = 0; i < 10; i++)
        {
            harness.Device.Deliver(Frame(i));
        }

        Assert.Equal(16, harness.Device.PendingEvents);
        Assert.Equal(4, harness.Device.DroppedEvents);
        Assert.Equal(4, meters.Total("overflow"));

        var buffers = harness.PostEventBuffers(16).ToDictionary(b => b.Head, b => b.Address);
        Assert.Equal(Enumerable.Range(2, 8).SelectMany(Frame), harness.TakeEvents(buffers));
    }

    [Fact]
    public void Without_any_complete_frame_the_bound_drops_single_oldest_events()
    {
        using var harness = new InputDeviceHarness(queueBound: 4);

        harness.Device.Deliver([.. Enumerable.Range(1, 6).Select(i => new InputEvent(InputEventTypes.Key, (ushort)i, 1))]);
        harness.Device.Deliver([InputEvent.SynReport]);
        var buffers = harness.PostEventBuffers(8).ToDictionary(b => b.Head, b => b.Address);

        Assert.Equal(3, harness.Device.DroppedEvents);
        Assert.Equal([new(InputEventTypes.Key, 4, 1), new(InputEventTypes.Key, 5, 1), new(InputEventTypes.Key, 6, 1), InputEvent.SynReport], harness.TakeEvents(buffers));
    }

    [Fact]
    public void A_buffer_shorter_than_an_event_gets_its_first_bytes_and_the_event_is_lost_like_qemu()
    {
        using var harness = new InputDeviceHarness();
        using var meters = new DropMeter(harness.MeterFactory);
        List<(ushort Head, ulong Address)> shortOne = harness.PostEventBuffers(1, length: 4);
        var buffers = harness.PostEventBuffers(2).ToDictionary(b => b.Head, b => b.Address);
        buffers[shortOne[0].Head] = shortOne[0].Address;

        harness.Device.Deliver([s_keyADown, InputEvent.SynReport, s_keyAUp, InputEvent.SynReport]);
        harness.Pump();

        var lengths = new List<uint>();
        List<InputEvent> events = harness.TakeEvents(buffers, lengths);
        // The first frame took the short buffer and one more; the second waits for two buffers.
        Assert.Equal([4u, 8u], lengths);
        Assert.Equal("01001E00", Convert.ToHexString(harness.Memory.GetSpan(shortOne[0].Address, 4)));
        Assert.Equal([InputEvent.SynReport], events);
        Assert.Equal(1, harness.Device.DroppedEvents);
        Assert.Equal(1, meters.Total("short-buffer"));
        Assert.Equal(2, harness.Device.PendingEvents);
    }

    [Fact]
    public void A_device_readable_eventq_buffer_is_returned_empty()
    {
        using var harness = new InputDeviceHarness();
        ulong address = harness.Allocator.Allocate(8, 8);
        ushort readableHead = harness.Drivers[VirtioInputDevice.EventQueue].Add([new Contracts.Virtio.GuestBuffer(address, 8)], []);
        var buffers = harness.PostEventBuffers(1).ToDictionary(b => b.Head, b => b.Address);
        buffers[readableHead] = address;

        harness.Device.Deliver([s_keyADown, InputEvent.SynReport]);
        harness.Pump();

        var lengths = new List<uint>();
        Assert.Equal([InputEvent.SynReport], harness.TakeEvents(buffers, lengths));
        Assert.Equal([0u, 8u], lengths);
        Assert.Equal(1, harness.Device.DroppedEvents);
    }

    [Fact]
    public void Events_for_an_inactive_device_are_dropped_and_counted()
    {
        using var harness = new InputDeviceHarness();
        using var meters = new DropMeter(harness.MeterFactory);
        harness.Device.Reset();

        harness.Device.Deliver([s_keyADown, InputEvent.SynReport]);

        Assert.Equal(0, harness.Device.PendingEvents);
        Assert.Equal(2, harness.Device.DroppedEvents);
        Assert.Equal(2, meters.Total("inactive"));
    }

    [Fact]
    public void Reset_forgets_pending_events()
    {
        using var harness = new InputDeviceHarness();
        harness.Device.Deliver([s_keyADown, InputEvent.SynReport]);

        harness.Device.Reset();

        Assert.Equal(0, harness.Device.PendingEvents);
    }

    [Fact]
    public void Deliver_schedules_the_event_queue_instead_of_touching_it()
    {
        using var harness = new InputDeviceHarness();
        var buffers = harness.PostEventBuffers(2).ToDictionary(b => b.Head, b => b.Address);

        harness.Device.Deliver([s_keyADown, InputEvent.SynReport]);

        Assert.Equal(1, harness.ScheduleCount);
        Assert.Empty(harness.TakeEvents(buffers));
        harness.Pump();
        Assert.Equal(2, harness.TakeEvents(buffers).Count);
    }

    /// <summary>Sums <c>vmm.virtio_input.events.dropped</c> by reason.</summary>
    private sealed class DropMeter : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly Dictionary<string, long> _totals = [];
        private readonly Lock _sync = new();

        public DropMeter(object scope)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Scope == scope && instrument.Meter.Name == VirtioInputDevice.MeterName && instrument.Name == VirtioInputDevice.DroppedCounterName)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
            {
                string reason = "";
                foreach (KeyValuePair<string, object?> tag in tags)
                {
                    if (tag.Key == "reason")
                    {
                        reason = (string)tag.Value!;
                    }
                }

                lock (_sync)
                {
                    _totals[reason] = _totals.GetValueOrDefault(reason) + value;
                }
            });
            _listener.Start();
        }

        public long Total(string reason)
        {
            lock (_sync)
            {
                return _totals.GetValueOrDefault(reason);
            }
        }

        public void Dispose() => _listener.Dispose();
    }
}
