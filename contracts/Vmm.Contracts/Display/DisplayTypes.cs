namespace Vmm.Contracts.Display;

/// <summary>The geometry and format of a display's frames.</summary>
/// <param name="Width">Width in pixels.</param>
/// <param name="Height">Height in pixels.</param>
/// <param name="Stride">Bytes from one row to the next.</param>
/// <param name="Format">The pixel format.</param>
public readonly record struct DisplayMode(int Width, int Height, int Stride, PixelFormat Format);

/// <summary>A changed rectangle of a frame, in pixels.</summary>
public readonly record struct DamageRect(int X, int Y, int Width, int Height);

/// <summary>A cursor position; <paramref name="Visible"/> false hides it.</summary>
public readonly record struct CursorPosition(int X, int Y, bool Visible);

/// <summary>A cursor image: B8G8R8A8 pixels, <c>Width * 4</c> bytes a row, and its hot spot.</summary>
public sealed record CursorShape(int Width, int Height, int HotX, int HotY, ReadOnlyMemory<byte> Pixels);

/// <summary>
/// A frame as a source publishes it: the whole surface and the rectangles that changed since the previous frame.
/// The pixels are only valid during the call: a sink copies the damaged rectangles it needs and returns.
/// </summary>
public readonly ref struct DisplayFrame
{
    /// <summary>Creates a frame.</summary>
    public DisplayFrame(DisplayMode mode, ReadOnlySpan<byte> pixels, ReadOnlySpan<DamageRect> damage, ulong sequence)
    {
        Mode = mode;
        Pixels = pixels;
        Damage = damage;
        Sequence = sequence;
    }

    /// <summary>The frame's geometry and format.</summary>
    public DisplayMode Mode { get; }

    /// <summary>The whole surface, <see cref="DisplayMode.Stride"/> bytes a row.</summary>
    public ReadOnlySpan<byte> Pixels { get; }

    /// <summary>What changed; clipped to the surface.</summary>
    public ReadOnlySpan<DamageRect> Damage { get; }

    /// <summary>A number that grows by one per published frame of a source.</summary>
    public ulong Sequence { get; }
}
