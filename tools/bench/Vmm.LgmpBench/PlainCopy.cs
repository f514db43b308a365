using System.Diagnostics;

namespace Vmm.LgmpBench;

/// <summary>The floor: one plain copy of the same bytes (Span.CopyTo between two arrays, no protocol, one thread).</summary>
internal sealed class PlainCopy(long bytes)
{
    private readonly byte[] _source = Filled(bytes);
    private readonly byte[] _destination = new byte[bytes];

    /// <summary>Copies per second over <paramref name="duration"/>.</summary>
    public double Stream(TimeSpan duration)
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

    /// <summary>The time of each copy in µs over <paramref name="duration"/>.</summary>
    public List<double> Latencies(TimeSpan duration)
    {
        var samples = new List<double>(4096);
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < duration)
        {
            long t0 = Stopwatch.GetTimestamp();
            _source[0]++;
            _source.AsSpan().CopyTo(_destination);
            samples.Add(Stopwatch.GetElapsedTime(t0).TotalMicroseconds);
        }

        return samples;
    }

    private static byte[] Filled(long bytes)
    {
        byte[] source = new byte[bytes];
        new Random(3).NextBytes(source);
        return source;
    }
}
