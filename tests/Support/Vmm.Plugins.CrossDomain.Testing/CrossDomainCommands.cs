using System.Buffers.Binary;
using Vmm.Plugins.VirtioGpu.Testing;

namespace Vmm.Plugins.CrossDomain.Testing;

/// <summary>
/// virtio-gpu control commands and cross-domain (libkrun dialect) messages as a guest lays them out, byte by byte
/// from the protocol (virtio spec 5.7, the brief's section 2), independently of the plugin's own writers so a bug
/// there is not mirrored here.
/// </summary>
public static class CrossDomainCommands
{
    /// <summary>VIRTIO_GPU_RESP_OK_NODATA.</summary>
    public const uint OkNoData = 0x1100;

    /// <summary>VIRTIO_GPU_RESP_OK_MAP_INFO (the MAP_BLOB answer).</summary>
    public const uint OkMapInfo = 0x1106;

    /// <summary>VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER.</summary>
    public const uint ErrInvalidParameter = 0x1205;

    /// <summary>The cross-domain capset.</summary>
    public const uint CapsetCrossDomain = 5;

    /// <summary>Channel types: none (allocation only), Wayland, X11.</summary>
    public const uint ChannelNone = 0, ChannelWayland = 1, ChannelX11 = 0x11;

    /// <summary>Identifier types of the libkrun dialect.</summary>
    public const uint IdVirtgpuBlob = 1, IdReadPipe = 3, IdWritePipe = 4, IdShm = 5, IdEventfd = 6;

    /// <summary>Cross-domain commands.</summary>
    public const byte CmdInit = 1, CmdGetImageRequirements = 2, CmdPoll = 3, CmdSend = 4, CmdReceive = 5, CmdRead = 6,
        CmdWrite = 7, CmdFutexNew = 8, CmdFutexSignal = 9, CmdFutexDestroy = 10, CmdReadEventfdNew = 11;

    /// <summary>Where SEND/RECEIVE data starts (CROSS_DOMAIN_MAX_IDENTIFIERS = 28).</summary>
    public const int SendDataOffset = 352;

    /// <summary>The most identifiers one SEND/RECEIVE carries.</summary>
    public const int MaxIdentifiers = 28;

    /// <summary>
    /// The most data one SEND carries: what the header's 16-bit cmd_size leaves after the identifiers. A SEND is read
    /// from the SUBMIT_3D buffer, not from a ring, so the 4 KiB bound of RECEIVE (3744 bytes: it lands in the 4 KiB
    /// channel ring) does not apply; libkrun's host takes opaque_data_size bytes from the command buffer too. muvm's
    /// bridge sends at most 3744 (its buffers are sized like its receive buffers): a core PutImage of 1.2 MB is then
    /// 330 SENDs instead of 19.
    /// </summary>
    public const int MaxSendData = ushort.MaxValue - SendDataOffset;

    /// <summary>DRM_FORMAT_ARGB8888 ('AR24'), what the bridge asks host images in.</summary>
    public const uint DrmFormatArgb8888 = 0x34325241;

    /// <summary>A command of <paramref name="type"/> with <paramref name="contextId"/> in the header and 32-bit fields.</summary>
    public static byte[] Command(uint type, int size, uint contextId, params (int Offset, uint Value)[] fields)
    {
        byte[] bytes = GpuCommandBytes.Command(type, size, fields);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(16), contextId);
        return bytes;
    }

    /// <summary>CTX_CREATE with context_init = <paramref name="capset"/> and a debug name.</summary>
    public static byte[] CreateContext(uint id, uint capset)
    {
        byte[] bytes = Command(0x0200, 96, id, (24, 7), (28, capset));
        "xbridge"u8.CopyTo(bytes.AsSpan(32));
        return bytes;
    }

    /// <summary>CTX_DESTROY.</summary>
    public static byte[] DestroyContext(uint id) => Command(0x0201, 24, id);

    /// <summary>CTX_ATTACH_RESOURCE.</summary>
    public static byte[] AttachResource(uint contextId, uint resourceId) => Command(0x0202, 32, contextId, (24, resourceId));

    /// <summary>CTX_DETACH_RESOURCE.</summary>
    public static byte[] DetachResource(uint contextId, uint resourceId) => Command(0x0203, 32, contextId, (24, resourceId));

    /// <summary>RESOURCE_UNREF.</summary>
    public static byte[] UnrefResource(uint resourceId) => Command(0x0102, 32, 0, (24, resourceId));

    /// <summary>RESOURCE_CREATE_BLOB(GUEST, MAPPABLE) over one guest range, as the bridge makes its rings.</summary>
    public static byte[] CreateGuestBlob(uint id, ulong address, uint length)
    {
        byte[] bytes = Command(0x010C, 56 + 16, 0, (24, id), (28, 1), (32, 1), (36, 1));
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(48), length);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(56), address);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(64), length);
        return bytes;
    }

    /// <summary>RESOURCE_CREATE_BLOB(HOST3D, MAPPABLE|SHAREABLE, blob_id) in a context: how a host item becomes a resource.</summary>
    public static byte[] CreateHostBlob(uint contextId, uint resourceId, ulong blobId, ulong size)
    {
        byte[] bytes = Command(0x010C, 56, contextId, (24, resourceId), (28, 2), (32, 3));
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(40), blobId);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(48), size);
        return bytes;
    }

    /// <summary>RESOURCE_MAP_BLOB at <paramref name="offset"/> of the host-visible window (answered with MAP_INFO, 32 bytes).</summary>
    public static byte[] MapBlob(uint resourceId, ulong offset)
    {
        byte[] bytes = Command(0x0208, 40, 0, (24, resourceId));
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(32), offset);
        return bytes;
    }

    /// <summary>RESOURCE_UNMAP_BLOB.</summary>
    public static byte[] UnmapBlob(uint resourceId) => Command(0x0209, 32, 0, (24, resourceId));

    /// <summary>SUBMIT_3D of a cross-domain <paramref name="stream"/>, with fence flags, fence id and ring index.</summary>
    public static byte[] Submit3d(uint contextId, ReadOnlySpan<byte> stream, uint flags = 0, ulong fence = 0, byte ring = 0)
    {
        byte[] bytes = Command(0x0207, 32 + stream.Length, contextId, (4, flags), (24, (uint)stream.Length));
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(8), fence);
        bytes[20] = ring;
        stream.CopyTo(bytes.AsSpan(32));
        return bytes;
    }

    /// <summary>INIT v1 (24 bytes): query ring, channel ring, channel type, protocol_version 1.</summary>
    public static byte[] Init(uint queryRing, uint channelRing, uint channelType)
    {
        byte[] init = Header(CmdInit, 24);
        BinaryPrimitives.WriteUInt32LittleEndian(init.AsSpan(8), queryRing);
        BinaryPrimitives.WriteUInt32LittleEndian(init.AsSpan(12), channelRing);
        BinaryPrimitives.WriteUInt32LittleEndian(init.AsSpan(16), channelType);
        BinaryPrimitives.WriteUInt32LittleEndian(init.AsSpan(20), 1);
        return init;
    }

    /// <summary>POLL (16 bytes), submitted fenced on ring 1.</summary>
    public static byte[] Poll() => Header(CmdPoll, 16);

    /// <summary>GET_IMAGE_REQUIREMENTS (24 bytes); the answer lands in the query ring.</summary>
    public static byte[] GetImageRequirements(uint width, uint height, uint drmFormat, uint flags = 0)
    {
        byte[] bytes = Header(CmdGetImageRequirements, 24);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), width);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(12), height);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(16), drmFormat);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(20), flags);
        return bytes;
    }

    /// <summary>SEND: num_identifiers @8, opaque_data_size @12, identifiers @16, types @128, sizes @240, data @352.</summary>
    public static byte[] SendMessage(ReadOnlySpan<byte> data, ReadOnlySpan<(uint Id, uint Type)> identifiers)
    {
        byte[] send = Header(CmdSend, SendDataOffset + data.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(send.AsSpan(8), (uint)identifiers.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(send.AsSpan(12), (uint)data.Length);
        for (int i = 0; i < identifiers.Length; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(send.AsSpan(16 + (4 * i)), identifiers[i].Id);
            BinaryPrimitives.WriteUInt32LittleEndian(send.AsSpan(128 + (4 * i)), identifiers[i].Type);
        }

        data.CopyTo(send.AsSpan(SendDataOffset));
        return send;
    }

    /// <summary>libkrun's FUTEX_NEW (32 bytes): fs_id u64 @8, handle u64 @16, id u32 @24.</summary>
    public static byte[] FutexNew(ulong fsId, ulong handle, uint id)
    {
        byte[] command = Header(CmdFutexNew, 32);
        BinaryPrimitives.WriteUInt64LittleEndian(command.AsSpan(8), fsId);
        BinaryPrimitives.WriteUInt64LittleEndian(command.AsSpan(16), handle);
        BinaryPrimitives.WriteUInt32LittleEndian(command.AsSpan(24), id);
        return command;
    }

    /// <summary>A 16-byte command with one id @8: FUTEX_SIGNAL (9), FUTEX_DESTROY (10), READ_EVENTFD_NEW (11).</summary>
    public static byte[] IdCommand(byte command, uint id)
    {
        byte[] bytes = Header(command, 16);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), id);
        return bytes;
    }

    /// <summary>WRITE: identifier @8, hang_up @12, opaque_data_size @16, data @24.</summary>
    public static byte[] WriteMessage(uint identifier, ReadOnlySpan<byte> data, bool hangUp = false)
    {
        byte[] write = Header(CmdWrite, 24 + data.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(write.AsSpan(8), identifier);
        BinaryPrimitives.WriteUInt32LittleEndian(write.AsSpan(12), hangUp ? 1u : 0u);
        BinaryPrimitives.WriteUInt32LittleEndian(write.AsSpan(16), (uint)data.Length);
        data.CopyTo(write.AsSpan(24));
        return write;
    }

    /// <summary>The response type of a control answer.</summary>
    public static uint ResponseType(ReadOnlySpan<byte> response) => response.Length < 4 ? 0 : BinaryPrimitives.ReadUInt32LittleEndian(response);

    private static byte[] Header(byte command, int size)
    {
        byte[] bytes = new byte[size];
        bytes[0] = command;
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(2), checked((ushort)size));
        return bytes;
    }
}
