using Vmm.Contracts.Display;
using Vmm.Plugins.Display.Framebuffer;

namespace Vmm.Plugins.Display.Vnc;

/// <summary>
/// Finds a vertical scroll in a damaged rectangle: the new rows are the old rows moved up by some distance
/// (a text console scrolling). Compares the incoming frame with the sink's framebuffer before it is updated.
/// </summary>
internal static class ScrollDetector
{
    private const int MinimumSize = 32;

    /// <summary>The distance the rect's content moved up, or 0 when it did not scroll.</summary>
    public static int FindScrollUp(SinkFramebuffer old, DisplayFrame frame, DamageRect rect)
    {
        DisplayMode mode = frame.Mode;
        if (!old.HasFrame || mode.Width != old.Width || mode.Height != old.Height
            || mode.Format is not (PixelFormat.B8G8R8X8 or PixelFormat.B8G8R8A8)
            || rect.Width < MinimumSize || rect.Height < MinimumSize)
        {
            return 0;
        }

        int rowBytes = rect.Width * 4;
        ReadOnlySpan<byte> oldPixels = old.Pixels;
        int oldStride = old.Stride, left = rect.X * 4;

        // New rows through ReadRow: views of the frame's bytes, or copies into the scratch rows for a segmented
        // frame whose row crosses a segment (the anchor keeps scratch 0, every other row uses 1).
        // A row with detail anchors the search: a blank row matches every other blank row.
        int anchor = -1;
        ReadOnlySpan<byte> anchorRow = default;
        for (int y = rect.Y; y < rect.Y + (rect.Height / 2) && anchor < 0; y++)
        {
            ReadOnlySpan<byte> row = frame.ReadRow(rect.X, y, rect.Width, old.RowScratch(0));
            if (!IsUniform(row))
            {
                anchor = y;
                anchorRow = row;
            }
        }

        if (anchor < 0)
        {
            return 0;
        }

        for (int distance = 1; anchor + distance < rect.Y + rect.Height && distance <= rect.Height / 2; distance++)
        {
            if (!anchorRow.SequenceEqual(oldPixels.Slice(((anchor + distance) * oldStride) + left, rowBytes)))
            {
                continue;
            }

            bool all = true;
            for (int y = rect.Y; y < rect.Y + rect.Height - distance && all; y++)
            {
                all = frame.ReadRow(rect.X, y, rect.Width, old.RowScratch(1)).SequenceEqual(oldPixels.Slice(((y + distance) * oldStride) + left, rowBytes));
            }

            if (all)
            {
                return distance;
            }
        }

        return 0;
    }

    private static bool IsUniform(ReadOnlySpan<byte> row)
    {
        ReadOnlySpan<byte> first = row[..4];
        for (int x = 4; x < row.Length; x += 4)
        {
            if (!row.Slice(x, 4).SequenceEqual(first))
            {
                return false;
            }
        }

        return true;
    }
}
