using Vmm.Core.Interrupts;
using Xunit;

namespace Vmm.Kvm.Tests.Interrupts;

/// <summary>Interrupts reach the payload IDT from ring 3; its handler reports the vector through the exception port.</summary>
public sealed class KvmInterruptTests
{
    private const ulong MsiAddressApic0 = 0xFEE0_0000;

    // A ring-3 `jmp $` with interrupts enabled: the only way out is an interrupt.
    private static readonly byte[] s_spin = [0xEB, 0xFE];

    [Fact]
    public void IrqFdOnAnMsiRouteDeliversTheVector()
    {
        using KvmSystem system = KvmTestEnvironment.OpenOrSkip();
        using PayloadMachine machine = new(system);
        using IMsiVector vector = machine.Vm.MsiController.CreateVector();
        vector.Configure(MsiAddressApic0, 0x40);
        machine.StartUserPayload(s_spin, interruptsEnabled: true);

        vector.Signal();
        KvmVmExit? exit = machine.Vm.WaitForExit(TimeSpan.FromSeconds(10));

        Assert.NotNull(exit);
        Assert.True(exit.Kind == KvmVmExitKind.GuestException, exit.ToString());
        Assert.Equal(0x40ul, exit.Code);
    }

    [Fact]
    public void SignalMsiDeliversTheVector()
    {
        using KvmSystem system = KvmTestEnvironment.OpenOrSkip();
        using PayloadMachine machine = new(system);
        machine.StartUserPayload(s_spin, interruptsEnabled: true);

        Assert.True(machine.Vm.SignalMsi(MsiAddressApic0, 0x41));
        KvmVmExit? exit = machine.Vm.WaitForExit(TimeSpan.FromSeconds(10));

        Assert.NotNull(exit);
        Assert.True(exit.Kind == KvmVmExitKind.GuestException, exit.ToString());
        Assert.Equal(0x41ul, exit.Code);
    }

    [Fact]
    public void VectorsGetDistinctGsisAboveTheIoapicPinsAndReuseFreedOnes()
    {
        using KvmSystem system = KvmTestEnvironment.OpenOrSkip();
        using PayloadMachine machine = new(system);
        var first = (Vmm.Kvm.Interrupts.KvmMsiVector)machine.Vm.MsiController.CreateVector();
        var second = (Vmm.Kvm.Interrupts.KvmMsiVector)machine.Vm.MsiController.CreateVector();
        first.Configure(MsiAddressApic0, 0x50);
        second.Configure(MsiAddressApic0, 0x51);

        Assert.True(first.Gsi >= 24 && second.Gsi >= 24 && first.Gsi != second.Gsi);
        Assert.Equal(2, machine.Vm.Routing.MsiRouteCount);
        uint freed = first.Gsi;
        first.Dispose();
        Assert.Equal(1, machine.Vm.Routing.MsiRouteCount);
        using var third = (Vmm.Kvm.Interrupts.KvmMsiVector)machine.Vm.MsiController.CreateVector();
        Assert.Equal(freed, third.Gsi);

        // The default IOAPIC routes survive the replaced table: a pin can still be raised.
        machine.Vm.PulseIrq(4);
    }
}
