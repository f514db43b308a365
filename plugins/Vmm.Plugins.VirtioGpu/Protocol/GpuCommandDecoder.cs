using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Vmm.Plugins.VirtioGpu.Protocol;

/// <summary>
/// The one place request bytes become commands: reads the control header, looks up the command's layout and checks
/// the request holds it. The wire format is little-endian, as are the hosts this runs on.
/// </summary>
internal static class GpuCommandDecoder
{
    /// <summary>The longest fixed layout (CTX_CREATE and SET_SCANOUT_BLOB, 96 bytes): how much of a request the device copies out.</summary>
    public static int MaxCommandSize { get; } = GpuControlHeader.Size + Math.Max(Unsafe.SizeOf<ContextCreate>(), Unsafe.SizeOf<SetScanoutBlob>());

    /// <summary>Decodes <paramref name="request"/>; false with the error when it is not a command this device knows.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> request, out GpuCommand command, out GpuDecodeError error)
    {
        Debug.Assert(BitConverter.IsLittleEndian, "virtio-gpu fields are read in host order");
        command = default;
        if (request.Length < GpuControlHeader.Size)
        {
            error = new GpuDecodeError(GpuDecodeErrorKind.ShorterThanHeader, 0, request.Length, GpuControlHeader.Size);
            return false;
        }

        GpuControlHeader header = MemoryMarshal.Read<GpuControlHeader>(request);
        int bodySize = BodySize(header.Type);
        if (bodySize < 0)
        {
            error = new GpuDecodeError(GpuDecodeErrorKind.UnknownCommand, header.Type, request.Length, 0);
            return false;
        }

        int needed = GpuControlHeader.Size + bodySize;
        if (request.Length < needed)
        {
            error = new GpuDecodeError(GpuDecodeErrorKind.ShorterThanCommand, header.Type, request.Length, needed);
            return false;
        }

        command = new GpuCommand(header, request[GpuControlHeader.Size..needed], request.Length);
        error = default;
        return true;
    }

    /// <summary>The size of a command's fixed part after the header; the whole request when the command carries more.</summary>
    public static int CommandSize<T>()
        where T : unmanaged
        => GpuControlHeader.Size + Unsafe.SizeOf<T>();

    /// <summary>The size of the fixed part after the header of command <paramref name="type"/>; -1 for an unknown type.</summary>
    public static int BodySize(uint type) => type switch
    {
        GpuCommandType.GetDisplayInfo or GpuCommandType.ContextDestroy => 0,
        GpuCommandType.ResourceCreate2D => Unsafe.SizeOf<ResourceCreate2D>(),
        GpuCommandType.ResourceUnref => Unsafe.SizeOf<ResourceUnref>(),
        GpuCommandType.SetScanout => Unsafe.SizeOf<SetScanout>(),
        GpuCommandType.ResourceFlush => Unsafe.SizeOf<ResourceFlush>(),
        GpuCommandType.TransferToHost2D => Unsafe.SizeOf<TransferToHost2D>(),
        GpuCommandType.ResourceAttachBacking => Unsafe.SizeOf<ResourceAttachBacking>(),
        GpuCommandType.ResourceDetachBacking => Unsafe.SizeOf<ResourceDetachBacking>(),
        GpuCommandType.GetCapsetInfo => Unsafe.SizeOf<GetCapsetInfo>(),
        GpuCommandType.GetCapset => Unsafe.SizeOf<GetCapset>(),
        GpuCommandType.GetEdid => Unsafe.SizeOf<GetEdid>(),
        GpuCommandType.ResourceCreateBlob => Unsafe.SizeOf<ResourceCreateBlob>(),
        GpuCommandType.SetScanoutBlob => Unsafe.SizeOf<SetScanoutBlob>(),
        GpuCommandType.ContextCreate => Unsafe.SizeOf<ContextCreate>(),
        GpuCommandType.ContextAttachResource => Unsafe.SizeOf<ContextAttachResource>(),
        GpuCommandType.ContextDetachResource => Unsafe.SizeOf<ContextDetachResource>(),
        GpuCommandType.Submit3D => Unsafe.SizeOf<Submit3D>(),
        GpuCommandType.ResourceMapBlob => Unsafe.SizeOf<ResourceMapBlob>(),
        GpuCommandType.ResourceUnmapBlob => Unsafe.SizeOf<ResourceUnmapBlob>(),
        GpuCommandType.UpdateCursor or GpuCommandType.MoveCursor => Unsafe.SizeOf<CursorUpdate>(),
        _ => -1,
    };
}
