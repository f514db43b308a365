using Vmm.Core.Bus;
using Vmm.Kvm.Devices;
using Xunit;

namespace Vmm.Kvm.Tests.Payloads;

public sealed class RingThreePayloadTests
{
    [Fact]
    public void HelloPrintsOnTheUartAndExitsThroughTheExitPort()
    {
        using KvmSystem system = KvmTestEnvironment.OpenOrSkip();
        byte[] payload = KvmTestEnvironment.LoadPayloadOrSkip("hello");
        using PayloadMachine machine = new(system);

        KvmVmExit exit = machine.RunUserPayload(payload);

        Assert.True(exit.Kind == KvmVmExitKind.GuestExit, exit.ToString() + " console: " + machine.Console);
        Assert.Equal(0ul, exit.Code);
        Assert.Equal("hello\n", machine.Console);
    }

    [Fact]
    public void MmioReadsAndWritesReachTheMmioBus()
    {
        using KvmSystem system = KvmTestEnvironment.OpenOrSkip();
        byte[] payload = KvmTestEnvironment.LoadPayloadOrSkip("mmio");
        using PayloadMachine machine = new(system);
        RecordingDevice device = new(0x1234_5678);
        machine.MmioBus.Register(0x3000_0000, 0x1000, device);

        KvmVmExit exit = machine.RunUserPayload(payload);

        Assert.True(exit.Kind == KvmVmExitKind.GuestExit, exit.ToString());
        Assert.Equal(0x78ul, exit.Code);
        Assert.Equal([(0ul, 4)], device.Reads);
        Assert.Equal([(4ul, 0x1234_5679u)], device.Writes);
    }

    [Fact]
    public void I8042ResetCommandFromTheGuestEndsTheVmAsAReset()
    {
        using KvmSystem system = KvmTestEnvironment.OpenOrSkip();
        using PayloadMachine machine = new(system);
        KvmVm vm = machine.Vm;
        vm.PortBus.Register(I8042Controller.DataPort, I8042Controller.PortCount, new I8042Controller(
            () => vm.RequestStop(new KvmVmExit(KvmVmExitKind.GuestReset, "i8042 reset"))));

        // mov al, 0xFE; out 0x64, al; jmp $
        KvmVmExit exit = machine.RunUserPayload([0xB0, 0xFE, 0xE6, 0x64, 0xEB, 0xFE]);

        Assert.True(exit.Kind == KvmVmExitKind.GuestReset, exit.ToString());
    }

    private sealed class RecordingDevice(uint readValue) : IBusDevice
    {
        public List<(ulong Offset, int Length)> Reads { get; } = [];

        public List<(ulong Offset, uint Value)> Writes { get; } = [];

        public void Read(ulong offset, Span<byte> data)
        {
            Reads.Add((offset, data.Length));
            BitConverter.TryWriteBytes(data, readValue);
        }

        public void Write(ulong offset, ReadOnlySpan<byte> data) => Writes.Add((offset, BitConverter.ToUInt32(data)));
    }
}
