using BenchmarkDotNet.Attributes;
using Vmm.Contracts.Virtio;
using Vmm.Core.Interrupts;
using Vmm.Core.Memory;
using Vmm.Core.Virtio.Queues;
using Vmm.Testing.Virtio;

namespace Vmm.Benchmarks.Virtio;

/// <summary>
/// One request's round trip through a split virtqueue: driver Add and kick decision, device TryPop, a write
/// into the writable part, Push, NotifyGuest to the interrupt callback, driver TryGetUsed.
/// </summary>
[MemoryDiagnoser]
public class VirtqueueRoundTripBenchmarks
{
    private GuestMemory _memory = null!;
    private DriverVirtqueue _driver = null!;
    private SplitVirtqueue _device = null!;
    private GuestBuffer[] _readable = [];
    private GuestBuffer[] _writable = [];
    private readonly byte[] _response = new byte[64];
    private readonly CountingLine _interrupt = new();

    /// <summary>Descriptors per request: half readable, half writable (one readable for 1).</summary>
    [Params(1, 8, 64)]
    public int Descriptors { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _memory = GuestMemory.Create(4 << 20);
        var allocator = new GuestMemoryAllocator(_memory, 0x1000, 4 << 20);
        _driver = new DriverVirtqueue(_memory, allocator, 256, eventIndex: true, indirect: false);
        _device = new SplitVirtqueue(_memory, 0, 256, _interrupt)
        {
            DescriptorTableAddress = _driver.DescriptorTableAddress,
            AvailableRingAddress = _driver.AvailableRingAddress,
            UsedRingAddress = _driver.UsedRingAddress,
        };
        _device.Enable(VirtioFeatures.Version1 | VirtioFeatures.RingEventIndex);

        int readable = Descriptors == 1 ? 1 : Descriptors / 2;
        _readable = new GuestBuffer[readable];
        _writable = new GuestBuffer[Descriptors - readable];
        for (int i = 0; i < _readable.Length; i++)
        {
            _readable[i] = new GuestBuffer(allocator.Allocate(64, 8), 64);
        }

        for (int i = 0; i < _writable.Length; i++)
        {
            _writable[i] = new GuestBuffer(allocator.Allocate(64, 8), 64);
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _memory.Dispose();

    [Benchmark]
    public uint RoundTrip()
    {
        _driver.Add(_readable, _writable);
        _driver.KickNeeded();
        _device.TryPop(out DescriptorChain? chain);
        int written = chain!.Write(0, _response);
        _device.Push(chain, (uint)written);
        _device.NotifyGuest();
        _driver.TryGetUsed(out _, out uint length);
        return length;
    }

    private sealed class CountingLine : IInterruptLine
    {
        public long Count { get; private set; }

        public void Signal() => Count++;
    }
}
