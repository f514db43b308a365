using System.Globalization;

namespace Vmm.Soak;

/// <summary>
/// What this process holds at one moment, read from <c>/proc/self</c> and the GC: what a VM that leaks would leave
/// behind (an fd, a worker thread, a guest-RAM mapping, managed objects held by a static).
/// </summary>
internal readonly record struct ResourceSnapshot(int Fds, int Threads, int Mappings, long MappedKiB, long RssKiB, long ManagedBytes, int VcpuMappings)
{
    /// <summary>Collects (finalizers included) and reads the counts.</summary>
    public static ResourceSnapshot Take()
    {
        // A SafeHandle dropped without Dispose is closed by its finalizer; what stays after a full collection is a leak.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long managed = GC.GetTotalMemory(forceFullCollection: true);
        int mappings = 0;
        long mappedBytes = 0;
        int vcpus = 0;
        foreach (string line in File.ReadLines("/proc/self/maps"))
        {
            mappings++;
            int dash = line.IndexOf('-', StringComparison.Ordinal);
            int space = line.IndexOf(' ', StringComparison.Ordinal);
            ulong start = ulong.Parse(line.AsSpan(0, dash), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            ulong end = ulong.Parse(line.AsSpan(dash + 1, space - dash - 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            mappedBytes += (long)(end - start);
            if (line.EndsWith("anon_inode:kvm-vcpu", StringComparison.Ordinal))
            {
                vcpus++;
            }
        }

        return new ResourceSnapshot(
            Directory.GetFileSystemEntries("/proc/self/fd").Length,
            Directory.GetDirectories("/proc/self/task").Length,
            mappings,
            mappedBytes / 1024,
            StatusKiB("VmRSS:"),
            managed,
            vcpus);
    }

    /// <summary>The table row for this snapshot after <paramref name="cycles"/> cycles.</summary>
    public string Row(int cycles, TimeSpan elapsed) => string.Create(
        CultureInfo.InvariantCulture,
        $"{cycles,7} {elapsed.TotalSeconds,9:F1} {Fds,5} {Threads,7} {Mappings,5} {MappedKiB / 1024.0,10:F1} {RssKiB / 1024.0,8:F1} {ManagedBytes / 1048576.0,9:F2} {VcpuMappings,5}");

    /// <summary>The header of <see cref="Row"/>.</summary>
    public const string Header = " cycles   elapsed   fds threads  maps mapped MiB  rss MiB  heap MiB vcpus";

    private static long StatusKiB(string field)
    {
        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith(field, StringComparison.Ordinal))
            {
                return long.Parse(line.AsSpan(field.Length).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }
}
