using Vmm.Contracts.Display;

namespace Vmm.Plugins.Ivshmem.Kvmfr;

/// <summary>KVMFR constants of Looking Glass B7 (<c>KVMFR_VERSION 20</c>), checked for exact equality by the client.</summary>
internal static class KvmfrProtocol
{
    /// <summary><c>KVMFR_MAGIC</c>: 8 bytes, no NUL.</summary>
    public static ReadOnlySpan<byte> Magic => "KVMFR---"u8;

    /// <summary><c>KVMFR_VERSION</c> of B7.</summary>
    public const uint Version = 20;

    /// <summary><c>LGMP_Q_POINTER</c>: the cursor queue's ID.</summary>
    public const uint PointerQueueId = 1;

    /// <summary><c>LGMP_Q_FRAME</c>: the frame queue's ID.</summary>
    public const uint FrameQueueId = 2;

    /// <summary><c>LGMP_Q_FRAME_LEN</c>.</summary>
    public const int FrameQueueLength = 2;

    /// <summary><c>LGMP_Q_POINTER_LEN</c>.</summary>
    public const int PointerQueueLength = 20;

    /// <summary><c>KVMFR_MAX_DAMAGE_RECTS</c>.</summary>
    public const int MaxDamageRects = 64;

    /// <summary>The largest cursor the B7 host sends (<c>MAX_POINTER_SIZE = 24 + 512*512*4</c>).</summary>
    public const int MaxCursorDimension = 512;

    /// <summary>LG's <c>FB_CHUNK_SIZE</c>: the producer publishes <c>wp</c> at least every this many bytes.</summary>
    public const int WriteChunk = 1 << 20;

    /// <summary>A page: frame pixels start page-aligned (kvmfr DMA-BUF import needs it).</summary>
    public const int PageSize = 4096;

    /// <summary>LG's <c>KVMFRFrame.offset</c>: the <c>FrameBuffer</c> starts 4 bytes before the second page.</summary>
    public const int FrameBufferOffset = PageSize - 4;
}

/// <summary>
/// <c>struct KVMFR</c> (48 B), the start of the LGMP header udata, followed by records:
/// <code>
///  0 char magic[8] ("KVMFR---")   8 u32 version   12 char hostver[32] (NUL-terminated)   44 u32 features
/// </code>
/// </summary>
internal static class KvmfrHeaderLayout
{
    public const int Magic = 0;
    public const int Version = 8;
    public const int HostVersion = 12;
    public const int HostVersionLength = 32;
    public const int Features = 44;

    /// <summary><c>sizeof(struct KVMFR)</c>.</summary>
    public const int Size = 48;
}

/// <summary><c>struct KVMFRRecord</c> (8 B, packed back to back, unaligned): <c>0 u8 type</c>, 3 pad, <c>4 u32 size</c>, <c>8 data[size]</c>.</summary>
internal static class KvmfrRecordLayout
{
    public const int Type = 0;
    public const int DataSize = 4;
    public const int Data = 8;

    /// <summary><c>sizeof(struct KVMFRRecord)</c>.</summary>
    public const int Size = 8;
}

/// <summary>
/// <c>KVMFRRecord_VMInfo</c> (51 B + string):
/// <code>
///  0 u8 uuid[16]   16 char capture[32]   48 u8 cpus   49 u8 cores   50 u8 sockets   51 char model[] (NUL-terminated)
/// </code>
/// </summary>
internal static class KvmfrVmInfoLayout
{
    public const int Uuid = 0;
    public const int UuidLength = 16;
    public const int Capture = 16;
    public const int CaptureLength = 32;
    public const int Cpus = 48;
    public const int Cores = 49;
    public const int Sockets = 50;
    public const int Model = 51;
}

/// <summary><c>KVMFRRecord_OSInfo</c>: <c>0 u8 os</c>, <c>1 char name[]</c> (NUL-terminated).</summary>
internal static class KvmfrOsInfoLayout
{
    public const int Os = 0;
    public const int Name = 1;
}

/// <summary>
/// <c>struct KVMFRFrame</c> of B7, 1084 B, the payload of a frame-queue message:
/// <code>
///  0 u32 formatVer     4 u32 frameSerial   8 u32 type (FrameType)   12 u32 screenWidth   16 u32 screenHeight
/// 20 u32 dataWidth    24 u32 dataHeight   28 u32 frameWidth        32 u32 frameHeight   36 u32 rotation
/// 40 u32 stride (px)  44 u32 pitch (B)    48 u32 offset (to the FrameBuffer, from this struct)
/// 52 u32 damageRectsCount (0 = all)       56 FrameDamageRect damageRects[64] (16 B each)   1080 u32 flags
/// </code>
/// The <c>FrameBuffer</c> at <c>+offset</c> is <c>u32 wp</c> (bytes written so far, release-stored) and then the pixels.
/// </summary>
internal static class KvmfrFrameLayout
{
    public const int FormatVersion = 0;
    public const int FrameSerial = 4;
    public const int Type = 8;
    public const int ScreenWidth = 12;
    public const int ScreenHeight = 16;
    public const int DataWidth = 20;
    public const int DataHeight = 24;
    public const int FrameWidth = 28;
    public const int FrameHeight = 32;
    public const int Rotation = 36;
    public const int Stride = 40;
    public const int Pitch = 44;
    public const int Offset = 48;
    public const int DamageRectsCount = 52;
    public const int DamageRects = 56;
    public const int Flags = 1080;

    /// <summary><c>sizeof(KVMFRFrame)</c> in B7.</summary>
    public const int Size = 1084;

    /// <summary>The offset of damage rect <paramref name="index"/>.</summary>
    public static int DamageRectOf(int index) => DamageRects + (FrameDamageRectLayout.Size * index);
}

/// <summary><c>FrameDamageRect</c> (16 B): <c>0 u32 x</c>, <c>4 u32 y</c>, <c>8 u32 width</c>, <c>12 u32 height</c>.</summary>
internal static class FrameDamageRectLayout
{
    public const int X = 0;
    public const int Y = 4;
    public const int Width = 8;
    public const int Height = 12;

    /// <summary><c>sizeof(FrameDamageRect)</c>.</summary>
    public const int Size = 16;
}

/// <summary><c>FrameBuffer</c>: <c>0 u32 wp</c> (atomic), <c>4 u8 data[]</c>.</summary>
internal static class FrameBufferLayout
{
    public const int WritePointer = 0;
    public const int Data = 4;
}

/// <summary>
/// <c>struct KVMFRCursor</c> (24 B), the payload of a pointer-queue message; with <see cref="CursorFlags.Shape"/>
/// the shape's <c>height * pitch</c> bytes follow at +24:
/// <code>
///  0 i16 x   2 i16 y (top-left of the image)   4 u32 type (CursorType)   8 i8 hx   9 i8 hy   10 pad
/// 12 u32 width   16 u32 height   20 u32 pitch
/// </code>
/// </summary>
internal static class KvmfrCursorLayout
{
    public const int X = 0;
    public const int Y = 2;
    public const int Type = 4;
    public const int HotX = 8;
    public const int HotY = 9;
    public const int Width = 12;
    public const int Height = 16;
    public const int Pitch = 20;

    /// <summary><c>sizeof(KVMFRCursor)</c>.</summary>
    public const int Size = 24;
}

/// <summary><c>KVMFRSetCursorPos</c> (12 B), a client-to-host message on the pointer queue: <c>0 u32 type (0)</c>, <c>4 i32 x</c>, <c>8 i32 y</c>.</summary>
internal static class KvmfrSetCursorPosLayout
{
    public const int Type = 0;
    public const int X = 4;
    public const int Y = 8;

    /// <summary><c>sizeof(KVMFRSetCursorPos)</c>.</summary>
    public const int Size = 12;

    /// <summary><c>KVMFR_MESSAGE_SETCURSORPOS</c>.</summary>
    public const uint MessageType = 0;
}
