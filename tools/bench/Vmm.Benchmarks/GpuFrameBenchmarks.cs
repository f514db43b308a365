using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using Vmm.Contracts.Devices;
using Vmm.Contracts.Display;
using Vmm.Contracts.Memory;
using Vmm.Contracts.Virtio;
using Vmm.Core.Interrupts;
using Vmm.Core.Memory;
using Vmm.Core.Virtio.Queues;
using Vmm.Plugins.Display.Png;
using Vmm.Plugins.VirtioGpu;
using Vmm.Testing.Virtio;
using static Vmm.Plugins.VirtioGpu.Testing.GpuCommandBytes;

namespace Vmm.Benchmarks;

/// <summary>
/// A 1920x1080 frame through virtio-gpu: TRANSFER_TO_HOST_2D + RESOURCE_FLUSH over a real split virtqueue, the
/// device copying from guest backing into its resource and a sink (the PNG sink) copying the damage into its own
/// framebuffer; against plain memory copies of the same bytes (one copy and two copies).
/// </summary>
[MemoryDiagnoser]
public class GpuFrameBenchmarks
{
    private const int Width = 1920, Height = 1080, Bytes = Width * Height * 4;

    private GuestMemory _memory = null!;
    private DriverVirtqueue _driver = null!;
    private SplitVirtqueue _queue = null!;
    private VirtioGpuDevice _device = null!;
    private PngSink _sink = null!;
    private GuestBuffer _transfer;
    private GuestBuffer _flush;
    private GuestBuffer _response1;
    private GuestBuffer _response2;
    private byte[] _source = [];
    private byte[] _destination = [];
    private byte[] _second = [];

    /// <summary>Full frame, or a 10% damage rect (608x341 away from the edges).</summary>
    [Params(100, 10)]
    public int DamagePercent { get; set; }

    private (uint X, uint Y, uint W, uint H) Rect => DamagePercent == 100 ? (0u, 0u, (uint)Width, (uint)Height) : (100u, 100u, 608u, 341u);

    [GlobalSetup]
    public void Setup()
    {
        _memory = GuestMemory.Create(64 << 20);
        var allocator = new GuestMemoryAllocator(_memory, 0x1000, 64 << 20);
        _driver = new DriverVirtqueue(_memory, allocator, 256, eventIndex: true, indirect: false);
        _queue = new SplitVirtqueue(_memory, 0, 256, new NoInterrupt())
        {
            DescriptorTableAddress = _driver.DescriptorTableAddress,
            AvailableRingAddress = _driver.AvailableRingAddress,
            UsedRingAddress = _driver.UsedRingAddress,
        };
        _queue.Enable(VirtioFeatures.Version1 | VirtioFeatures.RingEventIndex);
        var cursor = new SplitVirtqueue(_memory, 1, 64, new NoInterrupt());
        IDeviceFactory factory = new VirtioGpuDeviceFactory();
        _device = (VirtioGpuDevice)factory.Create(
            new DeviceCreateContext("gpu0", NullLoggerFactory.Instance, null, new NoServices(), AppContext.BaseDirectory),
            new VirtioGpuOptions { Scanouts = [new VirtioGpuModeOptions { Width = Width, Height = Height }] });
        _device.Activate(new Context(_memory, [_queue, cursor]));
        _sink = new PngSink("png0");
        _device.Connect(_sink);

        ulong backing = allocator.Allocate(Bytes, 4096);
        new Random(1).NextBytes(_memory.GetSpan(backing, Bytes));
        Send(allocator, Command(0x0101, 40, (24, 1), (28, 2), (32, Width), (36, Height)));
        byte[] attach = Command(0x0106, 48, (24, 1), (28, 1));
        BinaryPrimitives.WriteUInt64LittleEndian(attach.AsSpan(32), backing);
        BinaryPrimitives.WriteUInt32LittleEndian(attach.AsSpan(40), Bytes);
        Send(allocator, attach);
        Send(allocator, Command(0x0103, 48, (32, Width), (36, Height), (40, 0), (44, 1)));

        (uint x, uint y, uint w, uint h) = Rect;
        byte[] transfer = Command(0x0105, 56, (24, x), (28, y), (32, w), (36, h), (48, 1));
        BinaryPrimitives.WriteUInt64LittleEndian(transfer.AsSpan(40), ((ulong)y * Width * 4) + (x * 4));
        _transfer = Place(allocator, transfer);
        _flush = Place(allocator, Command(0x0104, 48, (24, x), (28, y), (32, w), (36, h), (40, 1)));
        _response1 = new GuestBuffer(allocator.Allocate(24, 8), 24);
        _response2 = new GuestBuffer(allocator.Allocate(24, 8), 24);

        int bytes = (int)(w * h * 4);
        _source = new byte[bytes];
        _destination = new byte[bytes];
        _second = new byte[bytes];
        new Random(2).NextBytes(_source);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _device.Dispose();
        _sink.Dispose();
        _memory.Dispose();
    }

    /// <summary>TRANSFER_TO_HOST_2D then RESOURCE_FLUSH, each a request on the control queue.</summary>
    [Benchmark]
    public uint TransferAndFlush()
    {
        _driver.Add([_transfer], [_response1]);
        _driver.Add([_flush], [_response2]);
        _device.ProcessQueue(0);
        _driver.TryGetUsed(out _, out uint first);
        _driver.TryGetUsed(out _, out uint second);
        return first + second;
    }

    /// <summary>One plain copy of the damaged bytes: the floor for the guest-to-resource copy.</summary>
    [Benchmark(Baseline = true)]
    public void MemoryCopyOnce() => _source.AsSpan().CopyTo(_destination);

    /// <summary>Two plain copies: what the pipeline must do (guest to resource, resource to sink).</summary>
    [Benchmark]
    public void MemoryCopyTwice()
    {
        _source.AsSpan().CopyTo(_destination);
        _destination.AsSpan().CopyTo(_second);
    }

    private GuestBuffer Place(GuestMemoryAllocator allocator, byte[] bytes)
    {
        var buffer = new GuestBuffer(allocator.Allocate((ulong)bytes.Length, 8), (uint)bytes.Length);
        _memory.Write(buffer.Address, bytes);
        return buffer;
    }

    private void Send(GuestMemoryAllocator allocator, byte[] command)
    {
        GuestBuffer response = new(allocator.Allocate(24, 8), 24);
        _driver.Add([Place(allocator, command)], [response]);
        _device.ProcessQueue(0);
        _driver.TryGetUsed(out _, out _);
        uint type = _memory.ReadUInt32(response.Address);
        if (type != 0x1100)
        {
            throw new InvalidOperationException($"Set-up command 0x{BinaryPrimitives.ReadUInt32LittleEndian(command):x4} failed with 0x{type:x4}.");
        }
    }

    private sealed class NoInterrupt : IInterruptLine
    {
        public void Signal()
        {
        }
    }

    private sealed class NoServices : IServiceProvider
    {
        public object? GetService(Type serviceType) => null;
    }

    private sealed class Context(IGuestMemory memory, IReadOnlyList<IVirtqueue> queues) : IVirtioDeviceContext
    {
        public ulong NegotiatedFeatures => VirtioFeatures.Version1;

        public IGuestMemory Memory => memory;

        public IReadOnlyList<IVirtqueue> Queues => queues;

        public bool TryGetSharedMemory(byte id, [NotNullWhen(true)] out ISharedMemoryRegion? region)
        {
            region = null;
            return false;
        }

        public void ScheduleQueue(int queueIndex)
        {
        }

        public void SignalConfigChanged()
        {
        }
    }
}
