using Vmm.Contracts.Display;

namespace Vmm.Plugins.Ivshmem.Kvmfr;

/// <summary>A frame as the consumer read it (copied out of shared memory and checked).</summary>
/// <param name="Format">Geometry and format; <c>Pitch</c> is the shm pitch. The copy-out destination is tight: <c>Width * 4</c> bytes a row.</param>
/// <param name="FormatVersion">The producer's <c>formatVer</c>.</param>
/// <param name="Serial">The producer's <c>frameSerial</c>.</param>
/// <param name="Rows">Rows present (<c>dataHeight</c>); fewer than the height when <see cref="FrameFlags.Truncated"/>.</param>
/// <param name="ScreenWidth">The guest desktop's width (for cursor scaling).</param>
/// <param name="ScreenHeight">The guest desktop's height.</param>
/// <param name="Flags">The frame flags.</param>
internal readonly record struct KvmfrFrameInfo(KvmfrFrameFormat Format, uint FormatVersion, uint Serial, int Rows, int ScreenWidth, int ScreenHeight, FrameFlags Flags);

/// <summary>A cursor image, converted to 32-bit BGRA with straight alpha.</summary>
/// <param name="Type">The shape's type in KVMFR (XOR pixels of masked and monochrome shapes are approximated as opaque).</param>
/// <param name="Width">Width in pixels.</param>
/// <param name="Height">Visible height in pixels (half the KVMFR height for monochrome).</param>
/// <param name="HotX">The hotspot's x from the left edge.</param>
/// <param name="HotY">The hotspot's y from the top edge.</param>
internal readonly record struct KvmfrCursorShape(CursorType Type, int Width, int Height, int HotX, int HotY);

/// <summary>Where the cursor is and whether it shows.</summary>
/// <param name="X">The image's left edge in guest desktop pixels.</param>
/// <param name="Y">The image's top edge.</param>
/// <param name="HotspotX">The pointed-at point's x (<c>X + HotX</c>).</param>
/// <param name="HotspotY">The pointed-at point's y.</param>
/// <param name="Visible">Whether the cursor shows.</param>
internal readonly record struct KvmfrCursorState(int X, int Y, int HotspotX, int HotspotY, bool Visible);

/// <summary>Where a <see cref="KvmfrConsumer"/> is with the producer.</summary>
internal enum KvmfrConsumerState
{
    /// <summary>Waiting for a live producer (magic, version, a moving heartbeat).</summary>
    WaitingForSession,

    /// <summary>In a session, subscribing to the frame and pointer queues.</summary>
    Subscribing,

    /// <summary>Receiving frames and cursor updates.</summary>
    Connected,
}

/// <summary>
/// What a <see cref="KvmfrConsumer"/> reports, called on the thread that calls <see cref="KvmfrConsumer.Poll"/>.
/// The frame and cursor calls pass spans and <c>in</c> structs: nothing is allocated per frame.
/// </summary>
internal interface IKvmfrConsumerHandler
{
    /// <summary>A session was joined: the producer's KVMFR header (version already checked).</summary>
    void SessionStarted(KvmfrHeader header);

    /// <summary>
    /// The session ended: <see cref="Lgmp.LgmpStatus.ErrInvalidSession"/> (producer restarted or its heartbeat stopped),
    /// <see cref="Lgmp.LgmpStatus.ErrQueueTimeout"/> (we were too slow and marked BAD), or
    /// <see cref="Lgmp.LgmpStatus.ErrCorrupted"/>. The consumer re-joins by itself.
    /// </summary>
    void SessionLost(Lgmp.LgmpStatus reason);

    /// <summary>The frame format changed (or the first frame of a session arrived); the next copy is a full one.</summary>
    void ModeChanged(in KvmfrFrameInfo frame);

    /// <summary>
    /// Where to copy <paramref name="frame"/>: at least <c>Height * Width * 4</c> bytes, tight rows, holding the
    /// previous frame (only damaged rects are copied when possible). Return an empty span to skip this frame.
    /// </summary>
    Span<byte> GetFrameBuffer(in KvmfrFrameInfo frame);

    /// <summary>The frame was copied into the buffer; <paramref name="damage"/> lists the copied rects (empty: all of it).</summary>
    void FrameReceived(in KvmfrFrameInfo frame, ReadOnlySpan<DamageRect> damage);

    /// <summary>A new cursor image (BGRA, <c>Width * 4</c> bytes a row).</summary>
    void CursorShapeChanged(in KvmfrCursorShape shape, ReadOnlySpan<byte> bgra);

    /// <summary>The cursor moved, or was shown or hidden.</summary>
    void CursorMoved(in KvmfrCursorState state);
}
