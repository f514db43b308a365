using System.Diagnostics;

namespace Vmm.GpuBench;

/// <summary>The floor: one plain copy of the damaged bytes (Span.CopyTo between two arrays, no virtio).</summary>
internal sealed class MemoryCopy(long bytes)
{
    private readonly byte[] _source = Filled(bytes);
    private readonly byte[] _destination = new byte[bytes];

    /// <summary>Copies per second over <paramref name="duration"/>.</summary>
    public double Measure(TimeSpan duration)
    {
        _source.AsSpan().CopyTo(_destination);
        long copies = 0;
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < duration)
        {
            _source.AsSpan().CopyTo(_destination);
            copies++;
        }

        return copies / watch.Elapsed.TotalSeconds;
    }

    private static byte[] Filled(long bytes)
    {
        byte[] source = new byte[bytes];
        new Random(3).NextBytes(source);
        return source;
    }
}
