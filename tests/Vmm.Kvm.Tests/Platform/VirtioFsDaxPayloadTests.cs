using System.Diagnostics;
using System.IO.MemoryMappedFiles;
using Microsoft.Extensions.Logging.Abstractions;
using Vmm.Core.Config;
using Vmm.Core.Memory;
using Vmm.Kvm.Platform;
using Vmm.Plugins.VirtioFs;
using Xunit;

namespace Vmm.Kvm.Tests.Platform;

/// <summary>
/// virtio-fs DAX on the kvm platform with a real vCPU: the ring-3 driver tools/guest-payloads/elf/virtiofs-dax-ring3.c
/// maps a /dev/shm file into the window with FUSE_SETUPMAPPING, and it and a host thread that maps the same file
/// increment one counter with atomics, each through its own mapping of the same page.
/// </summary>
public sealed unsafe class VirtioFsDaxPayloadTests
{
    private const ulong WindowSize = 4ul << 20;
    private const long FileSize = 2L << 20;
    private const ulong Magic = 0x4441_5821_C0DE_F00D;

    // The shared page's layout, as the payload's header comment describes it.
    private const int MagicOffset = 0x00;
    private const int IterationsOffset = 0x08;
    private const int GuestValueOffset = 0x10;
    private const int GuestReadyOffset = 0x18;
    private const int HostReadyOffset = 0x1C;
    private const int GuestDoneOffset = 0x20;
    private const int HostDoneOffset = 0x24;
    private const int GuestInterleavedOffset = 0x28;
    private const int GuestCyclesOffset = 0x30;
    private const int CounterOffset = 0x40;

    [Fact]
    public void GuestAndHostShareTheDaxPageAndNoAtomicIncrementIsLost()
    {
        const long iterations = 2_000_000;
        using KvmSystem system = KvmTestEnvironment.OpenOrSkip();
        string payload = KvmTestEnvironment.ElfPayloadPathOrSkip("virtiofs-dax-ring3");
        using ShmShare share = new();

        DaxRun run = Run(system, payload, share, iterations);

        Assert.True(run.Exit is { Kind: KvmVmExitKind.GuestExit, Code: 0 }, $"{run.Exit}; console: {run.Console}");
        Assert.Contains($"dax: window: bar 2 offset 0x0 length 0x{WindowSize:x}\n", run.Console, StringComparison.Ordinal);
        Assert.Contains($"dax: host wrote 0x{Magic:x}, iterations {iterations}\n", run.Console, StringComparison.Ordinal);
        Assert.Contains($"dax: counter {2 * iterations} (expected {2 * iterations})\n", run.Console, StringComparison.Ordinal);
        Assert.Contains("dax: removemapping ok\n", run.Console, StringComparison.Ordinal);
        Assert.True(run.HasDaxWindow, "The device did not get its window from the kvm platform.");

        // No lost updates: both sides' lock-prefixed increments hit one physical page.
        Assert.Equal(2 * iterations, run.Counter);
        Assert.Equal(~Magic, run.GuestValue);

        // While the guest held the range, the window's host address mapped the /dev/shm file shared and writable;
        // after REMOVEMAPPING the whole window is the inaccessible reservation again.
        Assert.Equal(new HostMapping("rw-s", share.File), run.MappingWhileShared);
        Assert.Equal("---p", run.MappingAfterRun?.Permissions);

        TestContext.Current.TestOutputHelper?.WriteLine(
            $"counter {run.Counter} = guest {iterations} + host {iterations}; guest: {run.GuestCycles} TSC cycles "
            + $"({(double)run.GuestCycles / iterations:F1}/increment), saw host increments {run.GuestInterleaved} times; "
            + $"host: {run.HostElapsed.TotalMilliseconds:F1} ms ({run.HostElapsed.TotalNanoseconds / iterations:F1} ns/increment), "
            + $"saw guest increments {run.HostInterleaved} times");
    }

    [Fact]
    public void AGuestReadOfARemovedRangeFailsTheRunInsteadOfSeeingTheFile()
    {
        using KvmSystem system = KvmTestEnvironment.OpenOrSkip();
        string payload = KvmTestEnvironment.ElfPayloadPathOrSkip("virtiofs-dax-ring3");
        using ShmShare share = new();
        File.WriteAllBytes(Path.Combine(share.Directory, "dax-touch-after-remove"), []);

        DaxRun run = Run(system, payload, share, iterations: 1000);

        Assert.Contains("dax: removemapping ok\ndax: reading the removed range\n", run.Console, StringComparison.Ordinal);
        Assert.DoesNotContain("still reads", run.Console, StringComparison.Ordinal);
        Assert.True(run.Exit is { Kind: KvmVmExitKind.PlatformError }, $"{run.Exit}; console: {run.Console}");
        Assert.Contains("errno 14", run.Exit!.Message, StringComparison.Ordinal); // EFAULT: nothing backs the range
        Assert.Equal(2000, run.Counter);
    }

    private static DaxRun Run(KvmSystem system, string payload, ShmShare share, long iterations)
    {
        using (FileStream file = new(share.File, FileMode.CreateNew, FileAccess.ReadWrite))
        {
            file.SetLength(FileSize);
        }

        using MemoryMappedFile mapped = MemoryMappedFile.CreateFromFile(share.File, FileMode.Open, null, 0, MemoryMappedFileAccess.ReadWrite);
        using MemoryMappedViewAccessor view = mapped.CreateViewAccessor(0, 4096);
        byte* page = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref page);
        try
        {
            *(ulong*)(page + MagicOffset) = Magic;
            *(long*)(page + IterationsOffset) = iterations;

            VirtioFsOptions options = new() { SharedDir = share.Directory, Tag = "daxshare", Dax = new VirtioFsDaxOptions { WindowSize = WindowSize } };
            DeviceSpec device = new("fs0", "virtio-fs", VirtioFsDeviceFactory.Type, options, new VirtioFsDeviceFactory(), "$.devices[0]");
            VmSpec spec = PlatformTestSpecs.Spec(payload) with { Devices = [device] };
            using ConsoleCapture console = new();
            using KvmMachine machine = KvmMachine.Create(system, spec, NullLoggerFactory.Instance, new KvmPlatformOptions { ConsoleOutput = console });
            var window = (SharedMemoryWindow)machine.Transports[0].SharedMemory[0];
            HostSide host = new(page, iterations, window.HostAddress);
            Thread thread = new(host.Run) { IsBackground = true, Name = "dax-host-side" };

            machine.Start(null);
            thread.Start();
            KvmVmExit? exit = machine.Vm.WaitForExit(TimeSpan.FromSeconds(60));
            host.Abandon();
            thread.Join();
            return new DaxRun(
                exit,
                console.Text,
                ((VirtioFsDevice)machine.Transports[0].Device).HasDaxWindow,
                Volatile.Read(ref *(long*)(page + CounterOffset)),
                *(ulong*)(page + GuestValueOffset),
                *(long*)(page + GuestInterleavedOffset),
                *(long*)(page + GuestCyclesOffset),
                host.Elapsed,
                host.Interleaved,
                host.MappingWhileShared,
                HostMapping.Find(window.HostAddress));
        }
        finally
        {
            view.SafeMemoryMappedViewHandle.ReleasePointer();
        }
    }

    private sealed record DaxRun(
        KvmVmExit? Exit,
        string Console,
        bool HasDaxWindow,
        long Counter,
        ulong GuestValue,
        long GuestInterleaved,
        long GuestCycles,
        TimeSpan HostElapsed,
        long HostInterleaved,
        HostMapping? MappingWhileShared,
        HostMapping? MappingAfterRun);

    /// <summary>The host process's half of the protocol, on its own mapping of the file.</summary>
    private sealed class HostSide(byte* page, long iterations, nint windowAddress)
    {
        private volatile bool _abandoned;

        public TimeSpan Elapsed { get; private set; }

        public long Interleaved { get; private set; }

        public HostMapping? MappingWhileShared { get; private set; }

        /// <summary>Stops waiting for the guest (it exited or failed).</summary>
        public void Abandon() => _abandoned = true;

        public void Run()
        {
            if (!WaitFor(GuestReadyOffset))
            {
                return;
            }

            Volatile.Write(ref *(int*)(page + HostReadyOffset), 1);
            ref long counter = ref *(long*)(page + CounterOffset);
            long previous = 0;
            long interleaved = 0;
            Stopwatch stopwatch = Stopwatch.StartNew();
            for (long i = 0; i < iterations; i++)
            {
                long old = Interlocked.Increment(ref counter) - 1;
                if (i != 0 && old != previous + 1)
                {
                    interleaved++;
                }

                previous = old;
            }

            Elapsed = stopwatch.Elapsed;
            Interleaved = interleaved;
            if (WaitFor(GuestDoneOffset))
            {
                MappingWhileShared = HostMapping.Find(windowAddress);
            }

            Volatile.Write(ref *(int*)(page + HostDoneOffset), 1);
        }

        private bool WaitFor(int flagOffset)
        {
            SpinWait spin = default;
            while (Volatile.Read(ref *(int*)(page + flagOffset)) == 0)
            {
                if (_abandoned)
                {
                    return false;
                }

                spin.SpinOnce(sleep1Threshold: -1);
            }

            return true;
        }
    }

    /// <summary>A shared directory under /dev/shm (tmpfs: the file's pages are the memory both sides map).</summary>
    private sealed class ShmShare : IDisposable
    {
        public ShmShare()
        {
            if (!System.IO.Directory.Exists("/dev/shm"))
            {
                Assert.Skip("/dev/shm does not exist on this host.");
            }

            Directory = System.IO.Directory.CreateDirectory(Path.Combine("/dev/shm", "vmm-dax-" + Guid.NewGuid().ToString("N"))).FullName;
            File = Path.Combine(Directory, "dax-shared");
        }

        public string Directory { get; }

        public string File { get; }

        public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
    }
}
