using System.Buffers.Binary;
using Vmm.Core.Bus;
using Xunit;

namespace Vmm.Kvm.Tests;

/// <summary>The vCPU exit loop allocates nothing per exit: only the VM's end (its exit record) allocates.</summary>
public sealed class KvmExitLoopAllocationTests
{
    private const byte NullPort = 0x80;

    [Fact]
    public void PortExitsDoNotAllocate()
    {
        using KvmSystem system = KvmTestEnvironment.OpenOrSkip();
        RunCountingAllocations(system, 10); // warm-up: JIT, lazy statics

        long few = RunCountingAllocations(system, 10);
        long many = RunCountingAllocations(system, 2_000);

        // 1,990 more exits; even one object per exit would be tens of kilobytes.
        Assert.InRange(many - few, long.MinValue, 1_024);
    }

    private static long RunCountingAllocations(KvmSystem system, int exits)
    {
        using PayloadMachine machine = new(system);
        NullDevice device = new();
        machine.Vm.PortBus.Register(NullPort, 1, device);
        machine.PrepareUserPayload(OutLoop(exits));

        long before = GC.GetAllocatedBytesForCurrentThread();
        KvmVmExit exit = machine.Vcpu.RunOnCurrentThread();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(machine.Vm.Completion.Result.Kind == KvmVmExitKind.GuestExit, machine.Vm.Completion.Result.ToString());
        Assert.Equal(KvmVmExitKind.Stopped, exit.Kind);
        Assert.Equal(exits, device.Writes);
        return allocated;
    }

    // mov ecx, exits; mov dx, 0x80; 1: out dx, al; loop 1b; mov dx, 0x501; out dx, al; jmp $
    private static byte[] OutLoop(int exits)
    {
        byte[] code = [0xB9, 0, 0, 0, 0, 0x66, 0xBA, NullPort, 0x00, 0xEE, 0xE2, 0xFD, 0x66, 0xBA, 0x01, 0x05, 0xEE, 0xEB, 0xFE];
        BinaryPrimitives.WriteInt32LittleEndian(code.AsSpan(1), exits);
        return code;
    }

    private sealed class NullDevice : IBusDevice
    {
        public int Writes { get; private set; }

        public void Read(ulong offset, Span<byte> data) => data.Clear();

        public void Write(ulong offset, ReadOnlySpan<byte> data) => Writes++;
    }
}
