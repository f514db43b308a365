using System.Buffers.Binary;

namespace Vmm.Plugins.VirtioGpu.Tests;

/// <summary>Builds virtio-gpu commands byte by byte from include/uapi/linux/virtio_gpu.h, independently of the device's code.</summary>
internal static class GpuCommands
{
    public static byte[] Header(uint type, int size, uint flags = 0, ulong fenceId = 0, uint contextId = 0, byte ringIndex = 0)
    {
        byte[] bytes = new byte[size];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, type);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), flags);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(8), fenceId);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(16), contextId);
        bytes[20] = ringIndex;
        return bytes;
    }

    public static byte[] GetDisplayInfo() => Header(0x0100, 24);

    public static byte[] GetEdid(uint scanout) => With(Header(0x010A, 32), (24, scanout));

    public static byte[] Create2D(uint id, uint format, uint width, uint height)
        => With(Header(0x0101, 40), (24, id), (28, format), (32, width), (36, height));

    public static byte[] Unref(uint id) => With(Header(0x0102, 32), (24, id));

    public static byte[] SetScanout(uint scanout, uint id, uint x, uint y, uint width, uint height)
        => With(Header(0x0103, 48), (24, x), (28, y), (32, width), (36, height), (40, scanout), (44, id));

    public static byte[] Flush(uint id, uint x, uint y, uint width, uint height)
        => With(Header(0x0104, 48), (24, x), (28, y), (32, width), (36, height), (40, id));

    public static byte[] Transfer(uint id, uint x, uint y, uint width, uint height, ulong offset)
    {
        byte[] bytes = With(Header(0x0105, 56), (24, x), (28, y), (32, width), (36, height), (48, id));
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(40), offset);
        return bytes;
    }

    public static byte[] AttachBacking(uint id, params (ulong Address, uint Length)[] entries)
    {
        byte[] bytes = With(Header(0x0106, 32 + (16 * entries.Length)), (24, id), (28, (uint)entries.Length));
        for (int i = 0; i < entries.Length; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(32 + (16 * i)), entries[i].Address);
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(40 + (16 * i)), entries[i].Length);
        }

        return bytes;
    }

    public static byte[] DetachBacking(uint id) => With(Header(0x0107, 32), (24, id));

    /// <summary>RESOURCE_CREATE_BLOB: resource_id @24, blob_mem @28, blob_flags @32, nr_entries @36, blob_id @40, size @48, entries @56.</summary>
    public static byte[] CreateBlob(uint id, uint blobMem, uint flags, ulong size, ulong blobId = 0, uint contextId = 0, params (ulong Address, uint Length)[] entries)
    {
        byte[] bytes = With(Header(0x010C, 56 + (16 * entries.Length), contextId: contextId), (24, id), (28, blobMem), (32, flags), (36, (uint)entries.Length));
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(40), blobId);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(48), size);
        for (int i = 0; i < entries.Length; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(56 + (16 * i)), entries[i].Address);
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(64 + (16 * i)), entries[i].Length);
        }

        return bytes;
    }

    /// <summary>SET_SCANOUT_BLOB: r @24, scanout_id @40, resource_id @44, width @48, height @52, format @56, strides[4] @64, offsets[4] @80.</summary>
    public static byte[] SetScanoutBlob(uint scanout, uint id, (uint X, uint Y, uint Width, uint Height) rect, uint width, uint height, uint format, uint stride, uint offset)
        => With(Header(0x010D, 96), (24, rect.X), (28, rect.Y), (32, rect.Width), (36, rect.Height), (40, scanout), (44, id), (48, width), (52, height), (56, format), (64, stride), (80, offset));

    /// <summary>RESOURCE_MAP_BLOB: resource_id @24, offset u64 @32; answered with 32 bytes (map_info @24).</summary>
    public static byte[] MapBlob(uint id, ulong offset)
    {
        byte[] bytes = With(Header(0x0208, 40), (24, id));
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(32), offset);
        return bytes;
    }

    public static byte[] UnmapBlob(uint id) => With(Header(0x0209, 32), (24, id));

    /// <summary>CTX_CREATE for <paramref name="capset"/> (context_init's low byte).</summary>
    public static byte[] CreateContext(uint id, uint capset) => With(Header(0x0200, 96, contextId: id), (24, 4), (28, capset), (32, 0x74736574));

    public static byte[] Cursor(uint type, uint scanout, uint x, uint y, uint id, uint hotX, uint hotY)
        => With(Header(type, 56), (24, scanout), (28, x), (32, y), (40, id), (44, hotX), (48, hotY));

    public static uint U32(byte[] bytes, int offset) => BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(offset));

    /// <summary>Writes each 32-bit field little-endian at its offset.</summary>
    public static byte[] With(byte[] bytes, params (int Offset, uint Value)[] fields)
    {
        foreach ((int offset, uint value) in fields)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(offset), value);
        }

        return bytes;
    }
}
