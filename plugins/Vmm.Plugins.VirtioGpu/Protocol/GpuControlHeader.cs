using System.Buffers.Binary;

namespace Vmm.Plugins.VirtioGpu.Protocol;

/// <summary>struct virtio_gpu_ctrl_hdr: type @0, flags @4, fence_id @8, ctx_id @16, ring_idx @20.</summary>
internal readonly record struct GpuControlHeader(uint Type, uint Flags, ulong FenceId, uint ContextId, byte RingIndex)
{
    public static GpuControlHeader Read(ReadOnlySpan<byte> source) => new(
        BinaryPrimitives.ReadUInt32LittleEndian(source),
        BinaryPrimitives.ReadUInt32LittleEndian(source[4..]),
        BinaryPrimitives.ReadUInt64LittleEndian(source[8..]),
        BinaryPrimitives.ReadUInt32LittleEndian(source[16..]),
        source[20]);

    /// <summary>Writes the response header for this request: the fence fields echoed exactly, as the guest waits on them.</summary>
    public void WriteResponse(uint responseType, Span<byte> destination)
    {
        destination[..GpuLayout.HeaderSize].Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(destination, responseType);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], Flags & (GpuLayout.FlagFence | GpuLayout.FlagInfoRingIndex));
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], FenceId);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[16..], ContextId);
        destination[20] = RingIndex;
    }
}
