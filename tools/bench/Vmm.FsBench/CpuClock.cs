using System.Diagnostics;
using System.Runtime.InteropServices;
using Vmm.Bench;

namespace Vmm.FsBench;

/// <summary>
/// Wall time and CPU time of one workload on both sides of the ring: this process (the front-end, and our device
/// when it is in process) plus the back-end's own process (the C virtiofsd), so a back-end that busy-polls pays for
/// it here. CPU is user+system from getrusage for this process and the threads' run time in /proc for the child.
/// </summary>
internal sealed partial class CpuClock(VhostUserBackend backend)
{
    private long _start;
    private TimeSpan _cpu;

    public void Start()
    {
        _cpu = Now();
        _start = Stopwatch.GetTimestamp();
    }

    /// <summary>The result of <paramref name="amount"/> units done in <paramref name="requests"/> FUSE requests since <see cref="Start"/>.</summary>
    public Result Stop(string name, double amount, string unit, long requests)
    {
        double seconds = Stopwatch.GetElapsedTime(_start).TotalSeconds;
        TimeSpan cpu = Now() - _cpu;
        return new Result(name, amount / seconds, unit, cpu.TotalMicroseconds / Math.Max(1, requests));
    }

    private TimeSpan Now() => Self() + backend.ChildProcessorTime;

    private static TimeSpan Self()
    {
        if (GetResourceUsage(0, out ResourceUsage usage) != 0)
        {
            return Process.GetCurrentProcess().TotalProcessorTime;
        }

        long micros = (usage.UserSeconds + usage.SystemSeconds) * 1_000_000 + usage.UserMicroseconds + usage.SystemMicroseconds;
        return TimeSpan.FromMicroseconds(micros);
    }

    [LibraryImport("libc", EntryPoint = "getrusage")]
    private static partial int GetResourceUsage(int who, out ResourceUsage usage);

    /// <summary>struct rusage (x86-64 and arm64): two timevals, then 14 longs this does not read.</summary>
    [StructLayout(LayoutKind.Sequential, Size = 144)]
    private struct ResourceUsage
    {
        public long UserSeconds;
        public long UserMicroseconds;
        public long SystemSeconds;
        public long SystemMicroseconds;
    }
}
