using System.Buffers.Binary;

namespace Vmm.Plugins.VirtioGpu;

/// <summary>
/// struct virtio_gpu_config: events_read (what the device raised), events_clear (the driver's write-1-to-clear),
/// num_scanouts and num_capsets. Events are raised from any thread (a display resize) and cleared by the driver.
/// </summary>
internal sealed class GpuConfigSpace(int scanoutCount, int capsetCount)
{
    private int _eventsRead;

    /// <summary>Whether an event is raised and not yet cleared.</summary>
    public bool HasEvents => Volatile.Read(ref _eventsRead) != 0;

    /// <summary>Raises VIRTIO_GPU_EVENT_DISPLAY: the guest should re-read display info and EDID.</summary>
    public void RaiseDisplayEvent() => Interlocked.Or(ref _eventsRead, (int)GpuLayout.EventDisplay);

    public void Read(int offset, Span<byte> data)
    {
        Span<byte> config = stackalloc byte[GpuLayout.ConfigSize];
        BinaryPrimitives.WriteUInt32LittleEndian(config[GpuLayout.ConfigEventsRead..], (uint)Volatile.Read(ref _eventsRead));
        BinaryPrimitives.WriteUInt32LittleEndian(config[GpuLayout.ConfigScanoutCount..], (uint)scanoutCount);
        BinaryPrimitives.WriteUInt32LittleEndian(config[GpuLayout.ConfigCapsetCount..], (uint)capsetCount);
        config.Slice(offset, data.Length).CopyTo(data);
    }

    public void Write(int offset, ReadOnlySpan<byte> data)
    {
        // Only events_clear is writable.
        for (int i = 0; i < data.Length; i++)
        {
            int at = offset + i - GpuLayout.ConfigEventsClear;
            if (at is >= 0 and < sizeof(uint))
            {
                int bits = data[i] << (at * 8);
                int current, next;
                do
                {
                    current = Volatile.Read(ref _eventsRead);
                    next = current & ~bits;
                }
                while (Interlocked.CompareExchange(ref _eventsRead, next, current) != current);
            }
        }
    }

    public void Clear() => Volatile.Write(ref _eventsRead, 0);
}
