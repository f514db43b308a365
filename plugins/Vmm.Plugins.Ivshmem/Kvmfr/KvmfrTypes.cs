using Vmm.Contracts.Display;

namespace Vmm.Plugins.Ivshmem.Kvmfr;

/// <summary><c>FrameType</c> (B7).</summary>
internal enum FrameType : uint
{
    /// <summary>Not a frame.</summary>
    Invalid = 0,

    /// <summary>32-bit B,G,R,A bytes: what our producer writes.</summary>
    Bgra = 1,

    /// <summary>32-bit R,G,B,A bytes.</summary>
    Rgba = 2,

    /// <summary>10-bit per channel, 32 bpp.</summary>
    Rgba10 = 3,

    /// <summary>Half floats, 64 bpp (HDR).</summary>
    Rgba16F = 4,

    /// <summary>24-bit BGR packed into a 32-bpp texture.</summary>
    Bgr32 = 5,

    /// <summary>24-bit RGB.</summary>
    Rgb24 = 6,
}

/// <summary><c>FrameRotation</c>.</summary>
internal enum FrameRotation : uint
{
    /// <summary>Upright.</summary>
    Rotate0 = 0,

    /// <summary>90 degrees.</summary>
    Rotate90 = 1,

    /// <summary>180 degrees.</summary>
    Rotate180 = 2,

    /// <summary>270 degrees.</summary>
    Rotate270 = 3,
}

/// <summary><c>FRAME_FLAG_*</c>.</summary>
[Flags]
internal enum FrameFlags : uint
{
    /// <summary>No flag.</summary>
    None = 0,

    /// <summary>The guest asks the client to block its screensaver.</summary>
    BlockScreensaver = 0x1,

    /// <summary>The guest asks the client's window to be activated.</summary>
    RequestActivation = 0x2,

    /// <summary>The frame did not fit: fewer rows (<c>dataHeight</c>) than <c>frameHeight</c>.</summary>
    Truncated = 0x4,

    /// <summary>HDR content.</summary>
    Hdr = 0x8,

    /// <summary>HDR with the PQ transfer function.</summary>
    HdrPq = 0x10,
}

/// <summary><c>CursorType</c>.</summary>
internal enum CursorType : uint
{
    /// <summary>32-bpp BGRA with alpha.</summary>
    Color = 0,

    /// <summary>1 bpp, AND mask rows then XOR mask rows (height is twice the visible height).</summary>
    Monochrome = 1,

    /// <summary>32 bpp; pixels with non-zero alpha are XORed with the screen.</summary>
    MaskedColor = 2,
}

/// <summary><c>CURSOR_FLAG_*</c>, carried in the pointer message's udata.</summary>
[Flags]
internal enum CursorFlags : uint
{
    /// <summary>No flag: hidden, position unchanged.</summary>
    None = 0,

    /// <summary>The message carries a position.</summary>
    Position = 0x1,

    /// <summary>The cursor is visible (read from every message).</summary>
    Visible = 0x2,

    /// <summary>The message carries a shape after the 24-byte header.</summary>
    Shape = 0x4,
}

/// <summary><c>KVMFR_FEATURE_*</c>.</summary>
[Flags]
internal enum KvmfrFeatures : uint
{
    /// <summary>No feature.</summary>
    None = 0,

    /// <summary>The host reads and acks <c>KVMFRSetCursorPos</c> client messages.</summary>
    SetCursorPos = 0x1,
}

/// <summary><c>KVMFR_RECORD_*</c>.</summary>
internal enum KvmfrRecordType : byte
{
    /// <summary>VM information.</summary>
    VmInfo = 1,

    /// <summary>Guest OS information.</summary>
    OsInfo = 2,
}

/// <summary><c>KVMFR_OS_*</c>.</summary>
internal enum KvmfrOs : byte
{
    /// <summary>Linux.</summary>
    Linux = 0,

    /// <summary>A BSD.</summary>
    Bsd = 1,

    /// <summary>macOS.</summary>
    Osx = 2,

    /// <summary>Windows.</summary>
    Windows = 3,

    /// <summary>Anything else.</summary>
    Other = 4,
}

/// <summary>
/// The edges of a damaged rectangle (<c>FrameDamageRect</c> on the wire; the contracts' <see cref="DamageRect"/>
/// in memory, so frames cross between the display router and KVMFR without a conversion).
/// </summary>
internal static class DamageRectEdges
{
    extension(DamageRect rect)
    {
        /// <summary>The right edge (exclusive).</summary>
        public int Right => rect.X + rect.Width;

        /// <summary>The bottom edge (exclusive).</summary>
        public int Bottom => rect.Y + rect.Height;

        /// <summary>Whether this rect lies entirely inside <paramref name="other"/>.</summary>
        public bool IsInside(DamageRect other) => rect.X >= other.X && rect.Y >= other.Y && rect.Right <= other.Right && rect.Bottom <= other.Bottom;
    }
}

/// <summary>A frame's geometry and format: what a change of bumps <c>formatVer</c>.</summary>
/// <param name="Width">Width in pixels.</param>
/// <param name="Height">Height in pixels.</param>
/// <param name="Pitch">Bytes per row in shared memory.</param>
/// <param name="Type">Pixel format.</param>
/// <param name="Rotation">Rotation the client applies.</param>
internal readonly record struct KvmfrFrameFormat(int Width, int Height, int Pitch, FrameType Type, FrameRotation Rotation);
