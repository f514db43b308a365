using Vmm.Contracts.Display;

namespace Vmm.Plugins.Display.Testing;

/// <summary>
/// A segmented frame's surface for tests: the bytes of one surface cut at the given offsets into separate arrays, so
/// no two segments are adjacent in memory (as a guest's scattered pages).
/// </summary>
public sealed class SurfacePieces : IDisplayFrameSegments
{
    private readonly byte[][] _pieces;
    private readonly int[] _starts;

    /// <summary>Cuts <paramref name="surface"/> at <paramref name="cuts"/> (offsets outside it are ignored).</summary>
    public SurfacePieces(byte[] surface, params int[] cuts)
    {
        ArgumentNullException.ThrowIfNull(surface);
        int[] bounds = [0, .. cuts.Where(c => c > 0 && c < surface.Length).Distinct().Order(), surface.Length];
        _starts = bounds[..^1];
        _pieces = [.. _starts.Select((start, i) => surface[start..bounds[i + 1]])];
    }

    /// <summary>Cuts <paramref name="surface"/> every <paramref name="every"/> bytes (4096: one page a segment).</summary>
    public static SurfacePieces Every(byte[] surface, int every)
        => new(surface, [.. Enumerable.Range(1, Math.Max(0, (surface.Length - 1) / every)).Select(i => i * every)]);

    /// <inheritdoc />
    public ReadOnlySpan<byte> GetSegment(int offset)
    {
        int index = Array.BinarySearch(_starts, offset);
        index = index < 0 ? ~index - 1 : index;
        return _pieces[index].AsSpan(offset - _starts[index]);
    }
}
