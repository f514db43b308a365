using Vmm.Contracts.Display;
using static Vmm.Plugins.VirtioGpu.Tests.GpuCommands;

namespace Vmm.Plugins.VirtioGpu.Tests;

/// <summary>The cursor queue: shapes from 64x64 resources, moves, hiding; malformed requests are consumed.</summary>
public sealed class VirtioGpuCursorTests
{
    [Fact]
    public void Update_cursor_publishes_the_shape_converted_to_bgra_and_move_cursor_the_position()
    {
        using var guest = new GpuGuest();
        var sink = new CapturingSink();
        guest.Device.Connect(sink);
        guest.SendType(Create2D(9, 67, 64, 64)); // R8G8B8A8
        byte[] rgba = new byte[64 * 64 * 4];
        for (int i = 0; i < rgba.Length; i += 4)
        {
            rgba[i] = 0x10;     // R
            rgba[i + 1] = 0x20; // G
            rgba[i + 2] = 0x30; // B
            rgba[i + 3] = 0x80; // A
        }

        ulong backing = guest.Machine.Allocator.Allocate((ulong)rgba.Length, 4096);
        guest.Machine.Memory.Write(backing, rgba);
        guest.SendType(AttachBacking(9, (backing, (uint)rgba.Length)));
        guest.SendType(Transfer(9, 0, 0, 64, 64, 0));

        Assert.Equal(0u, guest.SendCursor(Cursor(0x0300, 0, 100, 50, 9, 3, 4)));
        Assert.Equal(0u, guest.SendCursor(Cursor(0x0301, 0, 120, 60, 0, 0, 0)));
        Assert.Equal(0u, guest.SendCursor(Cursor(0x0300, 0, 120, 60, 0, 0, 0)));

        CursorShape shape = Assert.Single(sink.Shapes);
        Assert.Equal((64, 64, 3, 4), (shape.Width, shape.Height, shape.HotX, shape.HotY));
        Assert.Equal(new byte[] { 0x30, 0x20, 0x10, 0x80 }, shape.Pixels.Span[..4].ToArray());
        Assert.Equal([new(100, 50, true), new(120, 60, true), new(120, 60, false)], sink.Positions);
    }

    [Fact]
    public void Malformed_cursor_requests_are_consumed_without_effect()
    {
        using var guest = new GpuGuest();
        var sink = new CapturingSink();
        guest.Device.Connect(sink);

        Assert.Equal(0u, guest.SendCursor(Cursor(0x0300, 0, 1, 1, 77, 0, 0).AsSpan(0, 20)));
        Assert.Equal(0u, guest.SendCursor(Cursor(0x0300, 0, 1, 1, 77, 0, 0)));   // no such resource
        Assert.Equal(0u, guest.SendCursor(Cursor(0x0300, 9, 1, 1, 0, 0, 0)));    // no such scanout
        Assert.Equal(0u, guest.SendCursor(Cursor(0x0999, 0, 1, 1, 0, 0, 0)));

        Assert.Empty(sink.Shapes);
        Assert.Empty(sink.Positions);
    }
}
