using Xunit;

namespace Vmm.Kvm.Tests;

[CollectionDefinition(nameof(ResourceCountingCollection), DisableParallelization = true)]
public sealed class ResourceCountingCollection;

/// <summary>Stopping running vCPUs, and disposal that leaks no fd, mapping or thread.</summary>
[Collection(nameof(ResourceCountingCollection))]
public sealed class KvmVmLifetimeTests
{
    // A ring-3 `jmp $`: the vCPU never exits on its own, so only a kick can stop it.
    private static readonly byte[] s_spin = [0xEB, 0xFE];

    [Fact]
    public async Task RequestStopKicksASpinningVcpuOutOfKvmRun()
    {
        using KvmSystem system = KvmTestEnvironment.OpenOrSkip();
        using PayloadMachine machine = new(system);
        machine.StartUserPayload(s_spin);
        Assert.Null(machine.Vm.WaitForExit(TimeSpan.FromMilliseconds(200)));

        Assert.True(machine.Vm.RequestStop(new KvmVmExit(KvmVmExitKind.Stopped, "test")));
        KvmVmExit? exit = machine.Vm.WaitForExit(TimeSpan.FromSeconds(10));

        Assert.NotNull(exit);
        Assert.Equal(KvmVmExitKind.Stopped, exit.Kind);
        CancellationToken cancellation = TestContext.Current.CancellationToken;
        Task dispose = Task.Run(machine.Vm.Dispose, cancellation);
        Assert.Same(dispose, await Task.WhenAny(dispose, Task.Delay(TimeSpan.FromSeconds(10), cancellation)));
    }

    [Fact]
    public void FiftyVmsCreatedRunAndDisposedLeaveNoFdsOrThreads()
    {
        using KvmSystem system = KvmTestEnvironment.OpenOrSkip();
        RunAndDispose(system); // warm-up: lazy statics, the kick signal, JIT
        int fds = CountFds();
        int threads = CountThreads();

        for (int i = 0; i < 50; i++)
        {
            RunAndDispose(system);
        }

        // Not growing per VM is the property: fds other tests left to finalizers may close meanwhile, and the runtime
        // may open one or two of its own lazily; a leak would be at least 50 (one or more per VM).
        Assert.InRange(CountFds(), 0, fds + 4);

        // The runtime may add a pool thread of its own meanwhile; a leak here would be 50 vCPU threads.
        Assert.InRange(CountThreads(), 0, threads + 2);
        Assert.DoesNotContain(File.ReadLines("/proc/self/maps"), line => line.Contains("anon_inode:kvm-vcpu", StringComparison.Ordinal));
    }

    private static void RunAndDispose(KvmSystem system)
    {
        using PayloadMachine machine = new(system);
        machine.StartUserPayload(s_spin);
    }

    private static int CountFds()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        return Directory.GetFileSystemEntries("/proc/self/fd").Length;
    }

    private static int CountThreads() => Directory.GetDirectories("/proc/self/task").Length;
}
