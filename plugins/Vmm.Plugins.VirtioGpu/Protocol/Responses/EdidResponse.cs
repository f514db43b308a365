using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Vmm.Plugins.VirtioGpu.Protocol.Responses;

/// <summary>OK_EDID (struct virtio_gpu_resp_edid, 1056 bytes): size @24, padding @28, edid[1024] @32.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct EdidResponse
{
    public uint Size;
    public uint Padding;
    public EdidBytes Edid;
}

/// <summary>The 1024 EDID bytes a response carries.</summary>
[InlineArray(1024)]
internal struct EdidBytes
{
    private byte _byte;
}
