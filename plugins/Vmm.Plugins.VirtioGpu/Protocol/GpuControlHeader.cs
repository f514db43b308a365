using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Vmm.Plugins.VirtioGpu.Protocol;

/// <summary>
/// struct virtio_gpu_ctrl_hdr (24 bytes), the start of every command and response:
/// <code>
///  0 type      4 flags      8 fence_id (u64)
/// 16 ctx_id   20 ring_idx  21 padding[3]
/// </code>
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly record struct GpuControlHeader(uint Type, uint Flags, ulong FenceId, uint ContextId, byte RingIndex, byte Padding0 = 0, byte Padding1 = 0, byte Padding2 = 0)
{
    /// <summary>The header's size on the wire.</summary>
    public static int Size => Unsafe.SizeOf<GpuControlHeader>();

    /// <summary>Whether the guest asked for a fence (VIRTIO_GPU_FLAG_FENCE).</summary>
    public bool IsFenced => (Flags & GpuLayout.FlagFence) != 0;

    /// <summary>Whether the fence is on a context ring rather than the global timeline (VIRTIO_GPU_FLAG_INFO_RING_IDX).</summary>
    public bool IsOnRing => (Flags & GpuLayout.FlagInfoRingIndex) != 0;

    /// <summary>Writes the response header for this request: the fence fields echoed exactly, as the guest waits on them.</summary>
    public void WriteResponse(uint responseType, Span<byte> destination)
    {
        var response = new GpuControlHeader(responseType, Flags & (GpuLayout.FlagFence | GpuLayout.FlagInfoRingIndex), FenceId, ContextId, RingIndex);
        MemoryMarshal.Write(destination, in response);
    }
}
