using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace Vmm.Plugins.VirtioGpu.Protocol.Commands;

/// <summary>
/// CTX_CREATE (struct virtio_gpu_ctx_create, 96 bytes): nlen @24, context_init @28 (the capset id in its low
/// byte), debug_name[64] @32; the context is hdr.ctx_id.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly record struct ContextCreate(uint NameLength, uint ContextInit, ContextDebugName DebugName)
{
    /// <summary>The capset the context is of (VIRTIO_GPU_CONTEXT_INIT_CAPSET_ID_MASK); 0 is Linux's default context.</summary>
    public uint CapsetId => ContextInit & 0xFF;

    /// <summary>The debug name: at most nlen bytes of debug_name, without trailing NULs.</summary>
    public string Name
    {
        get
        {
            ContextDebugName name = DebugName;
            ReadOnlySpan<byte> bytes = name;
            return Encoding.UTF8.GetString(bytes[..(int)Math.Min(NameLength, (uint)bytes.Length)]).TrimEnd('\0');
        }
    }
}

/// <summary>CTX_CREATE's debug_name[64].</summary>
[InlineArray(64)]
internal struct ContextDebugName
{
    private byte _byte;
}
