using System.Diagnostics.Metrics;
using Vmm.Contracts.Devices;
using Vmm.Contracts.Virtio;
using Vmm.Core.Plugins;
using Vmm.Plugins.VirtioRng.Tests.Fakes;
using Vmm.Testing.Plugins;
using Vmm.Testing.Time;

namespace Vmm.Plugins.VirtioRng.Tests;

public sealed class VirtioRngDeviceTests : IDisposable
{
    private readonly PluginHost _host = TestPlugins.CreateHost(TestPlugins.VirtioRng);
    private readonly IDeviceFactory _factory;
    private readonly FakeVirtioDeviceContext _context = new();
    private readonly List<string> _tempFiles = [];

    public VirtioRngDeviceTests() => _factory = TestPlugins.LoadRngFactory(_host);

    private ulong Base => _context.GuestMemory.BaseAddress;

    public void Dispose()
    {
        _context.Dispose();
        _host.Dispose();
        foreach (string file in _tempFiles)
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void It_is_an_entropy_device_with_one_queue_and_no_config()
    {
        using IVirtioDevice device = Create("{}");

        Assert.Equal(VirtioDeviceType.Entropy, device.DeviceType);
        Assert.Equal([(ushort)256], device.QueueMaxSizes);
        Assert.Equal(0UL, device.DeviceFeatures);
        Assert.Equal(0, device.ConfigSize);
        Assert.Empty(device.SharedMemoryRegions);
        Assert.Equal("rng0", device.Id);
    }

    [Fact]
    public void Every_writable_buffer_of_every_chain_is_filled_and_the_guest_notified_once()
    {
        using IVirtioDevice device = Create("{}");
        ushort first = _context.Queue.Offer([], [new(Base, 16), new(Base + 0x100, 48)]);
        ushort second = _context.Queue.Offer([], [new(Base + 0x200, 32)]);
        device.Activate(_context);

        device.ProcessQueue(0);

        Assert.Equal([(first, 64u), (second, 32u)], _context.Queue.Used);
        Assert.Equal(1, _context.Queue.Notifications);
        Assert.Equal(0, _context.Queue.Pending);
        // 16 or more random bytes all zero would be a 2^-128 event: the buffers were written.
        Assert.Contains(_context.GuestMemory.Bytes(Base, 16).ToArray(), b => b != 0);
        Assert.Contains(_context.GuestMemory.Bytes(Base + 0x100, 48).ToArray(), b => b != 0);
        Assert.Contains(_context.GuestMemory.Bytes(Base + 0x200, 32).ToArray(), b => b != 0);
        Assert.All(_context.GuestMemory.Bytes(Base + 16, 0x100 - 16).ToArray(), b => Assert.Equal(0, b));
    }

    [Fact]
    public void A_chain_without_writable_buffers_is_returned_with_zero_bytes()
    {
        using IVirtioDevice device = Create("{}");
        ushort head = _context.Queue.Offer([new(Base, 8)], []);
        device.Activate(_context);

        device.ProcessQueue(0);

        Assert.Equal([(head, 0u)], _context.Queue.Used);
        Assert.Equal(1, _context.Queue.Notifications);
    }

    [Fact]
    public void Nothing_pending_means_no_notification()
    {
        using IVirtioDevice device = Create("{}");
        device.Activate(_context);

        device.ProcessQueue(0);

        Assert.Empty(_context.Queue.Used);
        Assert.Equal(0, _context.Queue.Notifications);
    }

    [Fact]
    public void A_file_source_gives_the_files_bytes_and_fewer_when_it_runs_dry()
    {
        byte[] content = Enumerable.Range(1, 100).Select(i => (byte)i).ToArray();
        string path = TempFile(content);
        using IVirtioDevice device = Create($$"""{ "source": "file", "path": "{{path}}" }""");
        _context.Queue.Offer([], [new(Base, 40)]);
        _context.Queue.Offer([], [new(Base + 0x100, 80)]);
        _context.Queue.Offer([], [new(Base + 0x200, 8)]);
        device.Activate(_context);

        device.ProcessQueue(0);

        Assert.Equal([40u, 60u, 0u], _context.Queue.Used.Select(u => u.BytesWritten));
        Assert.Equal(content[..40], _context.GuestMemory.Bytes(Base, 40).ToArray());
        Assert.Equal(content[40..], _context.GuestMemory.Bytes(Base + 0x100, 60).ToArray());
    }

    [Fact]
    public void Over_budget_requests_stay_queued()
    {
        using IVirtioDevice device = Create("""{ "maxBytesPerPeriod": 24, "periodMs": 3600000 }""");
        _context.Queue.Offer([], [new(Base, 16)]);
        _context.Queue.Offer([], [new(Base + 0x100, 16)]);
        _context.Queue.Offer([], [new(Base + 0x200, 16)]);
        device.Activate(_context);

        device.ProcessQueue(0);

        // 16 + 8 bytes fill the budget; the third request waits for the next period.
        Assert.Equal([16u, 8u], _context.Queue.Used.Select(u => u.BytesWritten));
        Assert.Equal(1, _context.Queue.Pending);
        Assert.Equal(1, _context.Queue.Notifications);
        Assert.Equal(0, _context.Scheduled);
    }

    [Fact]
    public void A_new_period_schedules_the_queue_again()
    {
        // On a clock the test moves (on the real one a loaded CI box stalled past the period between Activate and the
        // first run, and both requests were served at once).
        var clock = new ManualTimeProvider();
        using PluginTestHost host = PluginTestHost.Load(TestPlugins.VirtioRng, clock);
        using var device = (IVirtioDevice)host.CreateDevice("virtio-rng", """{ "maxBytesPerPeriod": 16, "periodMs": 20 }""");
        _context.Queue.Offer([], [new(Base, 16)]);
        _context.Queue.Offer([], [new(Base + 0x100, 16)]);
        device.Activate(_context);
        device.ProcessQueue(0);
        Assert.Single(_context.Queue.Used);

        clock.AdvanceMs(19);
        Assert.Equal(0, _context.Scheduled);

        // The refill timer asks for another run once the period is over (rounded up to the next millisecond).
        clock.AdvanceMs(2);
        Assert.Equal(1, _context.Scheduled);
        device.ProcessQueue(0);
        Assert.Equal([16u, 16u], _context.Queue.Used.Select(u => u.BytesWritten));
    }

    [Fact]
    public void Reset_drops_the_context_and_leaves_requests_alone()
    {
        using IVirtioDevice device = Create("{}");
        device.Activate(_context);
        device.Reset();
        _context.Queue.Offer([], [new(Base, 16)]);

        device.ProcessQueue(0);

        Assert.Empty(_context.Queue.Used);
        Assert.Equal(1, _context.Queue.Pending);
    }

    [Fact]
    public void A_queue_the_driver_did_not_enable_or_another_index_is_ignored()
    {
        using IVirtioDevice device = Create("{}");
        _context.Queue.Offer([], [new(Base, 16)]);
        device.Activate(_context);

        device.ProcessQueue(1);
        _context.Queue.IsReady = false;
        device.ProcessQueue(0);

        Assert.Empty(_context.Queue.Used);
    }

    [Fact]
    public void A_buffer_outside_guest_memory_fails_the_request_not_the_host()
    {
        using IVirtioDevice device = Create("{}");
        _context.Queue.Offer([], [new(Base + 0x10000 - 8, 16)]);
        device.Activate(_context);

        Assert.Throws<Vmm.Contracts.Memory.GuestMemoryException>(() => device.ProcessQueue(0));
    }

    [Fact]
    public void Bytes_given_to_the_guest_are_counted()
    {
        using var meters = new TestMeterFactory();
        using var listener = new MeterListener();
        long measured = 0;
        string? unit = null;
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (meters.Meters.Contains(instrument.Meter) && instrument.Name == "vmm.virtio_rng.bytes")
            {
                unit = instrument.Unit;
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref measured, value));
        listener.Start();
        using IVirtioDevice device = TestPlugins.CreateDevice(_host, _factory, "{}", meters);
        _context.Queue.Offer([], [new(Base, 16), new(Base + 0x100, 48)]);
        _context.Queue.Offer([], [new(Base + 0x200, 32)]);
        device.Activate(_context);

        device.ProcessQueue(0);

        Assert.Equal("Vmm.VirtioRng", Assert.Single(meters.Meters).Name);
        Assert.Equal("By", unit);
        Assert.Equal(96, Interlocked.Read(ref measured));
    }

    private IVirtioDevice Create(string json) => TestPlugins.CreateDevice(_host, _factory, json);

    private string TempFile(byte[] content)
    {
        string path = Path.GetTempFileName();
        _tempFiles.Add(path);
        File.WriteAllBytes(path, content);
        return path;
    }
}
