using System.Diagnostics;
using System.IO.MemoryMappedFiles;
using Microsoft.Extensions.Logging.Abstractions;
using Vmm.Core.Config;
using Vmm.Core.Memory;
using Vmm.Kvm.Platform;
using Vmm.Plugins.VirtioFs;
using Vmm.Testing.Diagnostics;
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
    private const int GuestIncrementsOffset = 0x38;
    private const int CounterOffset = 0x40;
    private const int GuestOverlappedOffset = 0x80;
    private const int HostOverlappedOffset = 0x84;
    private const int HostIncrementsOffset = 0x90;
    private const int GuestCloseOffset = 0x98;
    private const long CloseGap = 1024;
    private const long MinInterleaved = 100;

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
        Assert.Contains($"dax: counter {run.Counter} = guest {run.GuestIncrements} + host {run.HostIncrements}? yes\n", run.Console, StringComparison.Ordinal);
        Assert.Contains("dax: removemapping ok\n", run.Console, StringComparison.Ordinal);
        Assert.True(run.HasDaxWindow, "The device did not get its window from the kvm platform.");

        // No lost updates: both sides' lock-prefixed increments hit one physical page, and the loops overlapped
        // (each saw the other's increments land between its own at least MinInterleaved times).
        Assert.Equal(run.GuestIncrements + run.HostIncrements, run.Counter);
        Assert.InRange(run.GuestIncrements, iterations, long.MaxValue);
        Assert.InRange(run.HostIncrements, iterations, long.MaxValue);
        Assert.InRange(run.GuestInterleaved, MinInterleaved, long.MaxValue);
        Assert.InRange(run.HostInterleaved, MinInterleaved, long.MaxValue);
        Assert.Equal(~Magic, run.GuestValue);

        // While the guest held the range, the window's host address mapped the /dev/shm file shared and writable;
        // after REMOVEMAPPING the whole window is the inaccessible reservation again.
        Assert.Equal(("rw-s", share.File), (run.MappingWhileShared?.Permissions, run.MappingWhileShared?.Path));
        Assert.Equal("---p", run.MappingAfterRun?.Permissions);

        TestContext.Current.TestOutputHelper?.WriteLine(run.Console);
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"counter {run.Counter} = guest {run.GuestIncrements} + host {run.HostIncrements}; guest: {run.GuestCycles} TSC cycles "
            + $"({(double)run.GuestCycles / run.GuestIncrements:F1}/increment), saw host increments {run.GuestInterleaved} times ({run.GuestClose} within {CloseGap}); "
            + $"host: {run.HostElapsed.TotalMilliseconds:F1} ms ({run.HostElapsed.TotalNanoseconds / run.HostIncrements:F1} ns/increment), "
            + $"saw guest increments {run.HostInterleaved} times ({run.HostClose} within {CloseGap})");
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
        Assert.Equal(run.GuestIncrements + run.HostIncrements, run.Counter);
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
                *(long*)(page + GuestIncrementsOffset),
                *(long*)(page + GuestCloseOffset),
                host.Elapsed,
                host.Increments,
                host.Close,
                host.Interleaved,
                host.MappingWhileShared,
                ProcessMaps.Find(window.HostAddress));
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
        long GuestIncrements,
        long GuestClose,
        TimeSpan HostElapsed,
        long HostIncrements,
        long HostClose,
        long HostInterleaved,
        ProcessMapping? MappingWhileShared,
        ProcessMapping? MappingAfterRun);

    /// <summary>The host process's half of the protocol, on its own mapping of the file.</summary>
    private sealed class HostSide(byte* page, long iterations, nint windowAddress)
    {
        private volatile bool _abandoned;

        public TimeSpan Elapsed { get; private set; }

        public long Interleaved { get; private set; }

        public long Increments { get; private set; }

        public long Close { get; private set; }

        public ProcessMapping? MappingWhileShared { get; private set; }

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
            ref int guestOverlapped = ref *(int*)(page + GuestOverlappedOffset);
            ref int hostOverlapped = ref *(int*)(page + HostOverlappedOffset);
            long previous = 0;
            long interleaved = 0;
            long close = 0;
            long done = 0;
            Stopwatch stopwatch = Stopwatch.StartNew();

            // Like the guest: at least N, and on until both sides saw the other's increments between their own.
            for (; done < iterations || Volatile.Read(ref guestOverlapped) == 0 || Volatile.Read(ref hostOverlapped) == 0; done++)
            {
                if (_abandoned)
                {
                    break;
                }

                long old = Interlocked.Increment(ref counter) - 1;
                if (done != 0 && old != previous + 1)
                {
                    close += old - previous - 1 <= CloseGap ? 1 : 0;
                    if (++interleaved == MinInterleaved)
                    {
                        Volatile.Write(ref hostOverlapped, 1);
                    }
                }

                previous = old;
            }

            Elapsed = stopwatch.Elapsed;
            Interleaved = interleaved;
            Increments = done;
            Close = close;
            *(long*)(page + HostIncrementsOffset) = done;
            if (WaitFor(GuestDoneOffset))
            {
                MappingWhileShared = ProcessMaps.Find(windowAddress);
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
