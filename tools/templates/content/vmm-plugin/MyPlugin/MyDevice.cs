using Vmm.Contracts.Virtio;

namespace MyPlugin;

/// <summary>
/// A virtio entropy device (one queue) that fills every writable buffer with one byte. The transport calls it on
/// the device's own worker: see <see cref="IVirtioDevice"/> for the lifecycle.
/// </summary>
public sealed class MyDevice : IVirtioDevice
{
    private readonly byte _fill;
    private IVirtioDeviceContext? _context;

    /// <summary>Creates the device.</summary>
    public MyDevice(string id, byte fill)
    {
        Id = id;
        _fill = fill;
    }

    /// <inheritdoc />
    public string Id { get; }

    /// <inheritdoc />
    public VirtioDeviceType DeviceType => VirtioDeviceType.Entropy;

    /// <inheritdoc />
    public ulong DeviceFeatures => 0;

    /// <inheritdoc />
    public IReadOnlyList<ushort> QueueMaxSizes { get; } = [256];

    /// <inheritdoc />
    public IReadOnlyList<SharedMemoryRegionRequest> SharedMemoryRegions { get; } = [];

    /// <inheritdoc />
    public int ConfigSize => 0;

    /// <inheritdoc />
    public void ReadConfig(int offset, Span<byte> data) => data.Clear();

    /// <inheritdoc />
    public void WriteConfig(int offset, ReadOnlySpan<byte> data)
    {
    }

    /// <inheritdoc />
    public void Activate(IVirtioDeviceContext context) => _context = context;

    /// <inheritdoc />
    public void ProcessQueue(int queueIndex)
    {
        IVirtqueue queue = _context!.Queues[queueIndex];
        Span<byte> chunk = stackalloc byte[256];
        chunk.Fill(_fill);
        while (queue.TryPop(out DescriptorChain? chain))
        {
            long written = 0;
            while (written < chain.WritableLength)
            {
                int n = chain.Write(written, chunk[..(int)Math.Min(chunk.Length, chain.WritableLength - written)]);
                if (n == 0)
                {
                    break;
                }

                written += n;
            }

            queue.Push(chain, (uint)written);
        }

        queue.NotifyGuest();
    }

    /// <inheritdoc />
    public void Reset() => _context = null;

    /// <inheritdoc />
    public void Dispose() => _context = null;
}
