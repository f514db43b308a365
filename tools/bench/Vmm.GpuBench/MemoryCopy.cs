using System.Diagnostics;

namespace Vmm.GpuBench;

/// <summary>
/// The floor: one plain copy of the damaged bytes between two arrays (no virtio), either as one
/// <c>Span.CopyTo</c> or row by row as a sink copies a damage rect. Both are measured because on these machines
/// they differ a lot for a full frame (one 8 MB memmove takes the non-temporal path; 7 680-byte rows stay in the
/// cache), and a frame is compared with the faster of the two.
/// </summary>
internal sealed class MemoryCopy(long bytes, int rowBytes, bool byRows)
{
    private readonly byte[] _source = Filled(bytes);
    private readonly byte[] _destination = new byte[bytes];

    /// <summary>Copies per second over <paramref name="duration"/>.</summary>
    public double Measure(TimeSpan duration)
    {
        Copy();
        long copies = 0;
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < duration)
        {
            Copy();
            copies++;
        }

        return copies / watch.Elapsed.TotalSeconds;
    }

    private void Copy()
    {
        if (!byRows)
        {
            _source.AsSpan().CopyTo(_destination);
            return;
        }

        for (int offset = 0; offset < _source.Length; offset += rowBytes)
        {
            _source.AsSpan(offset, rowBytes).CopyTo(_destination.AsSpan(offset, rowBytes));
        }
    }

    private static byte[] Filled(long bytes)
    {
        byte[] source = new byte[bytes];
        new Random(3).NextBytes(source);
        return source;
    }
}
