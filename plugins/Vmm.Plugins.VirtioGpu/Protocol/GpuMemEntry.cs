using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Vmm.Plugins.VirtioGpu.Protocol;

/// <summary>
/// struct virtio_gpu_mem_entry (16 bytes): addr (u64) @0, length @8, padding @12. ATTACH_BACKING and
/// RESOURCE_CREATE_BLOB are followed by nr_entries of them.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly record struct GpuMemEntry(ulong Address, uint Length, uint Padding)
{
    /// <summary>An entry's size on the wire.</summary>
    public static int Size => Unsafe.SizeOf<GpuMemEntry>();
}
