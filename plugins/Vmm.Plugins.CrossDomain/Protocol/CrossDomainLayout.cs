namespace Vmm.Plugins.CrossDomain.Protocol;

/// <summary>
/// The cross-domain wire format in libkrun's dialect (containers/libkrun @ 6ed74fac,
/// <c>rutabaga_gfx/src/cross_domain/cross_domain_protocol.rs</c>): every struct by field, little-endian, offsets from
/// the start of the struct. Declared once here; the decoder and the message writers use nothing else.
/// </summary>
internal static class CrossDomainLayout
{
    /// <summary>The capset id (VIRTIO_GPU_CAPSET_CROSS_DOMAIN).</summary>
    public const uint CapsetId = 5;

    /// <summary>CROSS_DOMAIN_MAX_IDENTIFIERS: 28 in libkrun since 6bee78fa (sommelier and wayland-proxy-virtwl agree).</summary>
    public const int MaxIdentifiers = 28;

    /// <summary>What the host reads or receives at most per message: a 4 KiB ring less the SEND/RECEIVE header.</summary>
    public const int MaxMessageData = 4096 - SendReceive.Size;

    /// <summary>Read-pipe ids the guest allocates start after this value (pre-incremented).</summary>
    public const uint ReadPipeIdBase = 0x8000_0000;

    /// <summary>Ring indices: CROSS_DOMAIN_QUERY_RING and CROSS_DOMAIN_CHANNEL_RING.</summary>
    public const uint QueryRing = 0;

    /// <inheritdoc cref="QueryRing"/>
    public const uint ChannelRing = 1;

    /// <summary><c>struct CrossDomainCapabilities</c> (the capset, 16 bytes).</summary>
    public static class Capabilities
    {
        public const int Version = 0;
        public const int SupportedChannels = 4;
        public const int SupportsDmabuf = 8;
        public const int SupportsExternalGpuMemory = 12;
        public const int Size = 16;

        /// <summary>libkrun serves version 1: every command up to CROSS_DOMAIN_CMD_WRITE and its futex extension.</summary>
        public const uint ServedVersion = 1;
    }

    /// <summary><c>struct CrossDomainHeader</c> (8 bytes), at the start of every command and message.</summary>
    public static class Header
    {
        public const int Command = 0;
        public const int RingIndex = 1;
        public const int CommandSize = 2;
        public const int Pad = 4;
        public const int Size = 8;
    }

    /// <summary><c>struct CrossDomainInit</c>: 16 bytes (legacy: one ring), 20 (v0), 24 (libkrun v1 with protocol_version).</summary>
    public static class Init
    {
        public const int QueryRingId = 8;
        public const int ChannelRingId = 12;
        public const int ChannelType = 16;
        public const int ProtocolVersion = 20;
        public const int LegacySize = 16;
        public const int SizeV0 = 20;
        public const int SizeV1 = 24;

        /// <summary>In the legacy layout the second field is the channel type and the query ring is the channel ring.</summary>
        public const int LegacyChannelType = 12;
    }

    /// <summary><c>struct CrossDomainGetImageRequirements</c> (24 bytes).</summary>
    public static class GetImageRequirements
    {
        public const int Width = 8;
        public const int Height = 12;
        public const int DrmFormat = 16;
        public const int Flags = 20;
        public const int Size = 24;
    }

    /// <summary><c>struct CrossDomainImageRequirements</c>: the reply written at offset 0 of the query ring (64 bytes).</summary>
    public static class ImageRequirements
    {
        public const int Strides = 0;
        public const int Offsets = 16;
        public const int Modifier = 32;
        public const int ImageSize = 40;
        public const int BlobId = 48;
        public const int MapInfo = 52;
        public const int MemoryIndex = 56;
        public const int PhysicalDeviceIndex = 60;
        public const int Size = 64;
    }

    /// <summary><c>struct CrossDomainPoll</c> (16 bytes).</summary>
    public static class Poll
    {
        public const int Pad = 8;
        public const int Size = 16;
    }

    /// <summary><c>struct CrossDomainSendReceive</c>: SEND (guest to host) and RECEIVE (host to guest), data at 352.</summary>
    public static class SendReceive
    {
        public const int IdentifierCount = 8;
        public const int DataSize = 12;
        public const int Identifiers = 16;
        public const int IdentifierTypes = Identifiers + (4 * MaxIdentifiers);
        public const int IdentifierSizes = IdentifierTypes + (4 * MaxIdentifiers);
        public const int Data = IdentifierSizes + (4 * MaxIdentifiers);
        public const int Size = Data;
    }

    /// <summary><c>struct CrossDomainReadWrite</c>: READ (host to guest) and WRITE (guest to host), data at 24.</summary>
    public static class ReadWrite
    {
        public const int Identifier = 8;
        public const int HangUp = 12;
        public const int DataSize = 16;
        public const int Pad = 20;
        public const int Data = 24;
        public const int Size = Data;
    }

    /// <summary>libkrun's <c>struct CrossDomainFutexNew</c> (32 bytes): the virtio-fs export of a /dev/shm file.</summary>
    public static class FutexNew
    {
        public const int FsId = 8;
        public const int Handle = 16;
        public const int Id = 24;
        public const int Pad = 28;
        public const int Size = 32;
    }

    /// <summary>libkrun's FUTEX_SIGNAL, FUTEX_DESTROY and READ_EVENTFD_NEW: one id (16 bytes).</summary>
    public static class IdCommand
    {
        public const int Id = 8;
        public const int Pad = 12;
        public const int Size = 16;
    }
}

/// <summary>CROSS_DOMAIN_CMD_* in libkrun's numbering (upstream rutabaga reuses 8-11 for other commands).</summary>
internal enum CrossDomainCommandType : byte
{
    Init = 1,
    GetImageRequirements = 2,
    Poll = 3,
    Send = 4,
    Receive = 5,
    Read = 6,
    Write = 7,
    FutexNew = 8,
    FutexSignal = 9,
    FutexDestroy = 10,
    ReadEventfdNew = 11,
    ReadEventfdDestroy = 12,
}

/// <summary>CROSS_DOMAIN_CHANNEL_TYPE_*: the host socket a context connects to.</summary>
internal enum CrossDomainChannelType : uint
{
    /// <summary>No channel: a context that only allocates images.</summary>
    None = 0,
    Wayland = 0x0001,
    Camera = 0x0002,
    PipeWire = 0x0010,
    X11 = 0x0011,
}

/// <summary>CROSS_DOMAIN_ID_TYPE_* in libkrun's numbering (upstream rutabaga renumbered 5 and 6).</summary>
internal enum CrossDomainIdentifierType : uint
{
    /// <summary>A virtio-gpu resource id (guest to host) or a host blob id the guest imports as a HOST3D blob.</summary>
    VirtgpuBlob = 1,
    VirtgpuSync = 2,
    ReadPipe = 3,
    WritePipe = 4,

    /// <summary>libkrun: the futex id of a prior FUTEX_NEW; the host passes the exported /dev/shm file.</summary>
    Shm = 5,

    /// <summary>libkrun: an eventfd the host received (READ_EVENTFD_NEW, then READ/WRITE of 8-byte counters).</summary>
    Eventfd = 6,
}
