using System.Buffers.Binary;
using System.Diagnostics;
using Vmm.Core.Memory;
using Vmm.Kvm.Payloads;

namespace Vmm.Kvm.Probing;

/// <summary>
/// Finds out whether this host's KVM runs guest ring-0 code natively: times the same <c>dec rcx; jnz</c> loop at
/// CPL 0 and at CPL 3 in two tiny VMs. Under PVM-style hypervisors ring 0 is emulated (thousands of times slower)
/// while ring 3 runs natively; on hardware virtualization both run at the same speed.
/// </summary>
public static class KvmCapabilityProbe
{
    /// <summary>Default ring-0 iterations: ~0.1 s where ring 0 is emulated, microseconds where it is not.</summary>
    public const long DefaultRing0Iterations = 100_000;

    /// <summary>Default ring-3 iterations: tens of milliseconds at native speed.</summary>
    public const long DefaultRing3Iterations = 100_000_000;

    private const ulong KernelLoopAddress = 0x1_0000;
    private static readonly TimeSpan s_runLimit = TimeSpan.FromSeconds(30);

    /// <summary>Runs both loops and returns the figures.</summary>
    /// <exception cref="KvmException">A loop did not finish (the guest faulted or ran past 30 s).</exception>
    public static KvmProbeResult Measure(KvmSystem system, long ring0Iterations = DefaultRing0Iterations, long ring3Iterations = DefaultRing3Iterations)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentOutOfRangeException.ThrowIfLessThan(ring0Iterations, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(ring3Iterations, 1);
        TimeSpan ring0 = TimeLoop(system, ring0Iterations, userMode: false);
        TimeSpan ring3 = TimeLoop(system, ring3Iterations, userMode: true);
        return new KvmProbeResult(ring0Iterations, ring0, ring3Iterations, ring3);
    }

    /// <summary>Measures with the default counts, or says why it cannot (no KVM, no access, a failed run).</summary>
    public static bool TryMeasure(out KvmProbeResult? result, out string? reason)
    {
        result = null;
        reason = null;
        try
        {
            using KvmSystem system = KvmSystem.Open();
            result = Measure(system);
            return true;
        }
        catch (Exception exception) when (exception is KvmException or Vmm.Interop.NativeCallException)
        {
            reason = exception.Message;
            return false;
        }
    }

    private static TimeSpan TimeLoop(KvmSystem system, long iterations, bool userMode)
    {
        using GuestMemory memory = GuestMemory.Create(LongModeGuest.MinimumMemorySize);
        using KvmVm vm = system.CreateVm();
        vm.AddMemory(memory);
        vm.PortBus.Register(GuestExitPort.DefaultPort, 1, new GuestExitPort(vm));
        vm.PortBus.Register(GuestExceptionPort.DefaultPort, 1, new GuestExceptionPort(vm));
        KvmVcpu vcpu = vm.CreateVcpu();
        LongModeGuest.WriteSystemTables(memory);
        ulong address = userMode ? LongModeGuest.PayloadAddress : KernelLoopAddress;
        memory.Write(address, LoopCode(iterations));
        if (userMode)
        {
            LongModeGuest.EnterUserMode(vcpu, memory, address);
        }
        else
        {
            LongModeGuest.EnterKernelMode(vcpu, address);
        }

        using Timer limit = new(_ => vm.RequestStop(new KvmVmExit(KvmVmExitKind.Stopped, $"The probe loop ran past {s_runLimit.TotalSeconds} s.")), null, s_runLimit, Timeout.InfiniteTimeSpan);
        long start = Stopwatch.GetTimestamp();
        vcpu.RunOnCurrentThread();
        TimeSpan elapsed = Stopwatch.GetElapsedTime(start);
        KvmVmExit exit = vm.Completion.Result;
        if (exit.Kind != KvmVmExitKind.GuestExit)
        {
            throw new KvmException($"The ring-{(userMode ? 3 : 0)} probe loop did not finish: {exit}");
        }

        return elapsed;
    }

    // mov rcx, iterations; 1: dec rcx; jnz 1b; mov dx, exit port; out dx, al; jmp $
    private static byte[] LoopCode(long iterations)
    {
        byte[] code =
        [
            0x48, 0xB9, 0, 0, 0, 0, 0, 0, 0, 0,
            0x48, 0xFF, 0xC9,
            0x75, 0xFB,
            0x66, 0xBA, GuestExitPort.DefaultPort & 0xFF, GuestExitPort.DefaultPort >> 8,
            0xEE,
            0xEB, 0xFE,
        ];
        BinaryPrimitives.WriteInt64LittleEndian(code.AsSpan(2), iterations);
        return code;
    }
}
