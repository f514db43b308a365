using System.Diagnostics;

namespace Vmm.LgmpBench;

/// <summary>
/// The floor: one plain copy of the same bytes (Span.CopyTo, no protocol, one thread). Hot: the same two arrays every
/// time (cache-resident when they fit). Cold: rotating over enough array pairs (>= 64 MiB) that each copy comes from
/// and goes to memory, as the handoff's four frame-sized buffers do.
/// </summary>
internal sealed class PlainCopy
{
    private readonly byte[][] _sources;
    private readonly byte[][] _destinations;
    private int _next;

    public PlainCopy(long bytes, bool cold)
    {
        int pairs = cold ? (int)Math.Max(2, ((64L << 20) / (2 * bytes)) + 1) : 1;
        _sources = [.. Enumerable.Range(0, pairs).Select(_ => Filled(bytes))];
        _destinations = [.. Enumerable.Range(0, pairs).Select(_ => new byte[bytes])];
    }

    /// <summary>Copies per second over <paramref name="duration"/>.</summary>
    public double Stream(TimeSpan duration)
    {
        CopyOnce();
        long copies = 0;
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < duration)
        {
            CopyOnce();
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
            CopyOnce();
            samples.Add(Stopwatch.GetElapsedTime(t0).TotalMicroseconds);
        }

        return samples;
    }

    private void CopyOnce()
    {
        byte[] source = _sources[_next];
        source[0]++;
        source.AsSpan().CopyTo(_destinations[_next]);
        _next = (_next + 1) % _sources.Length;
    }

    private static byte[] Filled(long bytes)
    {
        byte[] source = new byte[bytes];
        new Random(3).NextBytes(source);
        return source;
    }
}
