using Microsoft.Extensions.Logging.Abstractions;
using Vmm.Kvm.Platform;
using Vmm.Testing.Diagnostics;
using Xunit;

namespace Vmm.Kvm.Tests.Platform;

/// <summary>Full platform VMs (virtio-rng on PCI, ioeventfds, irqfds, notify thread) started and stopped many times.</summary>
[Collection(nameof(ResourceCountingCollection))]
public sealed class KvmPlatformLifetimeTests
{
    private const ulong MemorySize = 62ul << 20;

    [Fact]
    public void TwentyPlatformVmsWithVirtioRngLeaveNoFdsThreadsOrMappings()
    {
        using KvmSystem system = KvmTestEnvironment.OpenOrSkip();
        string payload = KvmTestEnvironment.ElfPayloadPathOrSkip("rng-ring3");
        (string source, _) = PlatformTestSpecs.RngSource();
        RunOnce(system, payload, source); // warm-up: lazy statics, JIT
        int fds = CountFds();
        int threads = CountThreads();

        // Each VM's RAM, by where it was mapped: seen mapped at that size while the VM ran (proves the check sees a
        // live VM's RAM), and not mapped there at that size afterwards. By address, not by counting mappings of the
        // size: the process may map other things of any size meanwhile.
        List<(nint Address, ulong Size)> rams = [];
        for (int i = 0; i < 20; i++)
        {
            rams.Add(RunOnce(system, payload, source));
        }

        // Not growing per VM is the property: fds other tests left to finalizers may close meanwhile, and the runtime
        // may open one or two of its own lazily; a leak would be at least 20 (one or more per VM).
        Assert.InRange(CountFds(), 0, fds + 4);
        Assert.InRange(CountThreads(), 0, threads + 2); // a leak would be 20 vCPU + 20 notify + 20 worker threads
        Assert.All(rams, ram => Assert.False(IsMappedAtSize(ram.Address, ram.Size), $"The RAM mapped at 0x{ram.Address:x} is still mapped."));
        Assert.DoesNotContain(File.ReadLines("/proc/self/maps"), line => line.Contains("anon_inode:kvm-vcpu", StringComparison.Ordinal));
    }

    private static (nint Address, ulong Size) RunOnce(KvmSystem system, string payload, string source)
    {
        using ConsoleCapture console = new();
        using KvmMachine machine = KvmMachine.Create(system, PlatformTestSpecs.Spec(payload, MemorySize, source), NullLoggerFactory.Instance, new KvmPlatformOptions { ConsoleOutput = console });
        machine.Start(null);
        KvmVmExit? exit = machine.Vm.WaitForExit(TimeSpan.FromSeconds(30));
        Assert.True(exit is { Kind: KvmVmExitKind.GuestExit, Code: 0 }, $"{exit}; console: {console.Text}");
        Vmm.Core.Memory.GuestMemoryRegion ram = Assert.Single(machine.Memory.MappedRegions);
        Assert.True(IsMappedAtSize(ram.HostAddress, ram.Size), "The running VM's RAM is not in /proc/self/maps.");
        return (ram.HostAddress, ram.Size);
    }

    private static bool IsMappedAtSize(nint address, ulong size) =>
        Vmm.Testing.Diagnostics.ProcessMaps.Find(address) is { } mapping && mapping.Start == (ulong)address && mapping.End - mapping.Start == size;

    private static int CountFds()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        return Directory.GetFileSystemEntries("/proc/self/fd").Length;
    }

    private static int CountThreads() => Directory.GetDirectories("/proc/self/task").Length;
}
