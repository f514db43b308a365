using System.Buffers.Binary;

namespace Vmm.Plugins.VirtioVsock.Protocol;

/// <summary>The rest of the device's wire format: config space, the event, well-known CIDs and limits.</summary>
internal static class VsockLayout
{
    /// <summary><c>sizeof(struct virtio_vsock_config)</c>: one le64 <c>guest_cid</c>.</summary>
    public const int ConfigSize = 8;

    /// <summary>Offset of <c>guest_cid</c> in the config space.</summary>
    public const int GuestCidOffset = 0;

    /// <summary><c>sizeof(struct virtio_vsock_event)</c>: one le32 <c>id</c>.</summary>
    public const int EventSize = 4;

    /// <summary>VIRTIO_VSOCK_EVENT_TRANSPORT_RESET: every connection is gone, re-read the guest CID.</summary>
    public const uint TransportResetEvent = 0;

    /// <summary>VMADDR_CID_HOST: the address of the host side.</summary>
    public const ulong HostCid = 2;

    /// <summary>The lowest CID a guest may have (0-2 are reserved).</summary>
    public const ulong FirstGuestCid = 3;

    /// <summary>VIRTIO_VSOCK_MAX_PKT_BUF_SIZE: the largest payload Linux sends or expects (64 KiB).</summary>
    public const int MaxPayload = 64 * 1024;

    /// <summary>Writes the config space (<paramref name="guestCid"/>) into <paramref name="config"/>.</summary>
    public static void WriteConfig(Span<byte> config, ulong guestCid)
        => BinaryPrimitives.WriteUInt64LittleEndian(config[GuestCidOffset..], guestCid);
}
