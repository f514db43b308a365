using System.Globalization;

namespace Vmm.Soak;

/// <summary>
/// Whether a run's end is back at its baseline. The limits are fixed slack, not a fraction: a leak of one fd,
/// thread or mapping per VM over hundreds of cycles is hundreds, far past them, while the runtime may open a few
/// of its own lazily (a thread-pool thread, a timer) between two snapshots.
/// </summary>
internal static class Baseline
{
    private const int FdSlack = 4;
    private const int ThreadSlack = 4;
    // The runtime's W^X code heaps split and join mappings as tiered JIT publishes code: ~20 more in the first
    // hundred cycles after the warm-up, then flat (the mapped bytes do not change).
    private const int MappingSlack = 32;

    // 1,000 cycles leaking 256 bytes each would pass unseen; the input-meter leak this runner found was ~800 a cycle.
    private const long ManagedSlackBytes = 256L << 10;

    /// <summary>One line per resource, "ok" or "GREW", and whether all are back.</summary>
    public static (bool Back, IReadOnlyList<string> Lines) Compare(ResourceSnapshot baseline, ResourceSnapshot end)
    {
        List<string> lines = [];
        bool back = true;
        back &= Check(lines, "file descriptors", baseline.Fds, end.Fds, FdSlack);
        back &= Check(lines, "threads", baseline.Threads, end.Threads, ThreadSlack);
        back &= Check(lines, "mappings", baseline.Mappings, end.Mappings, MappingSlack);
        back &= Check(lines, "vCPU mappings", baseline.VcpuMappings, end.VcpuMappings, 0);
        back &= Check(lines, "managed heap bytes", baseline.ManagedBytes, end.ManagedBytes, ManagedSlackBytes);

        // RSS is reported, not judged: the native allocator and the GC keep freed pages for reuse.
        lines.Add(string.Create(CultureInfo.InvariantCulture, $"  rss: {baseline.RssKiB / 1024.0:F1} MiB -> {end.RssKiB / 1024.0:F1} MiB (reported, not judged)"));
        return (back, lines);
    }

    private static bool Check(List<string> lines, string what, long baseline, long end, long slack)
    {
        bool ok = end <= baseline + slack;
        lines.Add(string.Create(CultureInfo.InvariantCulture, $"  {what}: {baseline} -> {end} (allowed +{slack}): {(ok ? "ok" : "GREW")}"));
        return ok;
    }
}
