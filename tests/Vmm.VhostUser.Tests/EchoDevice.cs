using System.Buffers.Binary;
using Vmm.Contracts.Virtio;

namespace Vmm.VhostUser.Tests;

/// <summary>A one-queue test device: copies each request's readable bytes into its writable buffers.</summary>
internal sealed class EchoDevice : IVirtioDevice
{
    private static readonly ushort[] s_queueMaxSizes = [64];
    private readonly byte[] _config = new byte[8];
    private IVirtioDeviceContext? _context;

    public EchoDevice() => BinaryPrimitives.WriteUInt64LittleEndian(_config, 0x1122334455667788);

    public string Id => "echo0";

    public VirtioDeviceType DeviceType => VirtioDeviceType.Console;

    public ulong DeviceFeatures => 1UL << 0;

    public IReadOnlyList<ushort> QueueMaxSizes => s_queueMaxSizes;

    public IReadOnlyList<SharedMemoryRegionRequest> SharedMemoryRegions => [];

    public int ConfigSize => _config.Length;

    public int Activations;

    public int Resets;

    public bool ThrowOnProcess { get; init; }

    public void ReadConfig(int offset, Span<byte> data) => _config.AsSpan(offset, data.Length).CopyTo(data);

    public void WriteConfig(int offset, ReadOnlySpan<byte> data) => data.CopyTo(_config.AsSpan(offset));

    public void Activate(IVirtioDeviceContext context)
    {
        _context = context;
        Interlocked.Increment(ref Activations);
    }

    public void ProcessQueue(int queueIndex)
    {
        if (ThrowOnProcess)
        {
            throw new InvalidOperationException("EchoDevice was told to fail.");
        }

        IVirtqueue queue = _context!.Queues[queueIndex];
        byte[] scratch = new byte[4096];
        while (queue.TryPop(out DescriptorChain? chain))
        {
            int n = chain.Read(0, scratch.AsSpan(0, (int)Math.Min(chain.ReadableLength, scratch.Length)));
            int written = chain.Write(0, scratch.AsSpan(0, n));
            queue.Push(chain, (uint)written);
        }

        queue.NotifyGuest();
    }

    public void Reset()
    {
        _context = null;
        Interlocked.Increment(ref Resets);
    }

    public void Dispose()
    {
    }
}
