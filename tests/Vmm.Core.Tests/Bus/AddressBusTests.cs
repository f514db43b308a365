using Vmm.Core.Bus;
using Xunit;

namespace Vmm.Core.Tests.Bus;

public sealed class AddressBusTests
{
    [Fact]
    public void Dispatches_to_the_range_with_relative_offsets()
    {
        var bus = new AddressBus("mmio");
        var a = new RecordingDevice();
        var b = new RecordingDevice();
        bus.Register(0x1000, 0x100, a);
        bus.Register(0x2000, 0x10, b);

        Assert.True(bus.Write(0x1010, [1, 2, 3, 4]));
        Assert.True(bus.Write(0x200C, [9, 9, 9, 9]));

        Assert.Equal((0x10UL, 4), a.LastWrite);
        Assert.Equal((0xCUL, 4), b.LastWrite);
    }

    [Fact]
    public void Rejects_overlaps_and_accepts_adjacent_ranges()
    {
        var bus = new AddressBus("pio");
        bus.Register(0x100, 0x10, new RecordingDevice());
        Assert.Throws<InvalidOperationException>(() => bus.Register(0x10F, 1, new RecordingDevice()));
        Assert.Throws<InvalidOperationException>(() => bus.Register(0xF0, 0x11, new RecordingDevice()));
        Assert.Throws<InvalidOperationException>(() => bus.Register(0x0, 0x1000, new RecordingDevice()));
        bus.Register(0x110, 0x10, new RecordingDevice());
        bus.Register(0xF0, 0x10, new RecordingDevice());
        Assert.Equal(3, bus.Ranges.Count);
        Assert.Equal([0xF0UL, 0x100UL, 0x110UL], bus.Ranges.Select(r => r.Start));
    }

    [Fact]
    public void Unclaimed_reads_are_all_ones_and_writes_are_counted()
    {
        var bus = new AddressBus("mmio");
        var device = new RecordingDevice();
        bus.Register(0x1000, 0x10, device);
        byte[] data = new byte[4];

        Assert.False(bus.Read(0x5000, data));
        Assert.Equal(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF }, data);

        // Straddling the end of a range is not claimed either.
        Assert.False(bus.Write(0x100E, [1, 2, 3, 4]));
        Assert.Null(device.LastWrite);
        Assert.Equal(2, bus.UnclaimedAccessCount);
    }

    [Fact]
    public void Unclaimed_accesses_are_reported_on_the_vmm_bus_meter()
    {
        var bus = new AddressBus("metered-" + Guid.NewGuid().ToString("N"));
        long measured = 0;
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == AddressBus.MeterName && instrument.Name == "vmm.bus.unclaimed_accesses")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                if (tag.Key == "vmm.bus.name" && Equals(tag.Value, bus.Name))
                {
                    Interlocked.Add(ref measured, value);
                }
            }
        });
        listener.Start();

        bus.Write(0x10, [1]);
        bus.Read(0x20, new byte[2]);

        Assert.Equal(2, Interlocked.Read(ref measured));
    }

    [Fact]
    public void Unregister_removes_the_range()
    {
        var bus = new AddressBus("mmio");
        bus.Register(0x1000, 0x10, new RecordingDevice());
        Assert.True(bus.Unregister(0x1000));
        Assert.False(bus.Unregister(0x1000));
        Assert.False(bus.TryFind(0x1000, 1, out _));
    }

    [Fact]
    public void Lookup_finds_every_range_among_many()
    {
        var bus = new AddressBus("mmio");
        var devices = new RecordingDevice[50];
        for (int i = 0; i < devices.Length; i++)
        {
            devices[i] = new RecordingDevice();
            bus.Register((ulong)(49 - i) * 0x1000, 0x800, devices[i]);
        }

        for (int i = 0; i < devices.Length; i++)
        {
            Assert.True(bus.TryFind(((ulong)(49 - i) * 0x1000) + 0x7FF, 1, out BusRange range));
            Assert.Same(devices[i], range.Device);
            Assert.False(bus.TryFind(((ulong)(49 - i) * 0x1000) + 0x800, 1, out _));
        }
    }

    private sealed class RecordingDevice : IBusDevice
    {
        public (ulong Offset, int Length)? LastWrite { get; private set; }

        public void Read(ulong offset, Span<byte> data) => data.Fill(0x5A);

        public void Write(ulong offset, ReadOnlySpan<byte> data) => LastWrite = (offset, data.Length);
    }
}
