using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Vmm.Kvm.Platform;
using Xunit;

namespace Vmm.Kvm.Tests.Platform;

/// <summary>Full platform VMs (virtio-rng on PCI, ioeventfds, irqfds, notify thread) started and stopped many times.</summary>
[Collection(nameof(ResourceCountingCollection))]
public sealed class KvmPlatformLifetimeTests
{
    private const ulong MemorySize = 62ul << 20; // an unusual size, to count exactly this VM's RAM mappings

    [Fact]
    public void TwentyPlatformVmsWithVirtioRngLeaveNoFdsThreadsOrMappings()
    {
        using KvmSystem system = KvmTestEnvironment.OpenOrSkip();
        string payload = KvmTestEnvironment.ElfPayloadPathOrSkip("rng-ring3");
        (string source, _) = PlatformTestSpecs.RngSource();
        RunOnce(system, payload, source); // warm-up: lazy statics, JIT
        int fds = CountFds();
        int threads = CountThreads();
        int ramMappings = CountMappingsOfSize(MemorySize);

        int runningRamMappings = 0;
        for (int i = 0; i < 20; i++)
        {
            runningRamMappings = Math.Max(runningRamMappings, RunOnce(system, payload, source));
        }

        Assert.Equal(ramMappings + 1, runningRamMappings); // proves the count sees a live VM's RAM
        // Not growing per VM is the property: fds other tests left to finalizers may close meanwhile, and the runtime
        // may open one or two of its own lazily; a leak would be at least 20 (one or more per VM).
        Assert.InRange(CountFds(), 0, fds + 4);
        Assert.InRange(CountThreads(), 0, threads + 2); // a leak would be 20 vCPU + 20 notify + 20 worker threads
        Assert.Equal(ramMappings, CountMappingsOfSize(MemorySize));
        Assert.DoesNotContain(File.ReadLines("/proc/self/maps"), line => line.Contains("anon_inode:kvm-vcpu", StringComparison.Ordinal));
    }

    private static int RunOnce(KvmSystem system, string payload, string source)
    {
        using ConsoleCapture console = new();
        using KvmMachine machine = KvmMachine.Create(system, PlatformTestSpecs.Spec(payload, MemorySize, source), NullLoggerFactory.Instance, new KvmPlatformOptions { ConsoleOutput = console });
        machine.Start(null);
        KvmVmExit? exit = machine.Vm.WaitForExit(TimeSpan.FromSeconds(30));
        Assert.True(exit is { Kind: KvmVmExitKind.GuestExit, Code: 0 }, $"{exit}; console: {console.Text}");
        return CountMappingsOfSize(MemorySize);
    }

    private static int CountFds()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        return Directory.GetFileSystemEntries("/proc/self/fd").Length;
    }

    private static int CountThreads() => Directory.GetDirectories("/proc/self/task").Length;

    private static int CountMappingsOfSize(ulong size) => File.ReadLines("/proc/self/maps").Count(line =>
    {
        string range = line[..line.IndexOf(' ', StringComparison.Ordinal)];
        int dash = range.IndexOf('-', StringComparison.Ordinal);
        ulong start = ulong.Parse(range.AsSpan(0, dash), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        ulong end = ulong.Parse(range.AsSpan(dash + 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        return end - start == size;
    });
}
