using Vmm.Kvm.Devices;
using Xunit;

namespace Vmm.Kvm.Tests.Devices;

public sealed class Serial16550Tests
{
    private readonly List<byte> _output = [];
    private int _interrupts;

    private Serial16550 Create() => new(_output.Add, () => _interrupts++);

    [Fact]
    public void TransmittedBytesReachTheSinkAndLsrAlwaysSaysIdle()
    {
        Serial16550 uart = Create();
        Write(uart, 0, (byte)'h');
        Write(uart, 0, (byte)'i');

        Assert.Equal("hi"u8.ToArray(), _output);
        Assert.Equal(0x60, Read(uart, 5));
    }

    [Fact]
    public void StreamSinkReceivesOutput()
    {
        using MemoryStream sink = new();
        Serial16550 uart = new(sink);
        Write(uart, 0, 0x41);
        Assert.Equal([0x41], sink.ToArray());
    }

    [Fact]
    public void LinuxAutoconfigReadsBackIerAndSeesA16550A()
    {
        Serial16550 uart = Create();
        Write(uart, 1, 0x00);
        Assert.Equal(0x00, Read(uart, 1));
        Write(uart, 1, 0x0F);
        Assert.Equal(0x0F, Read(uart, 1));
        Write(uart, 1, 0xFF);
        Assert.Equal(0x0F, Read(uart, 1));
        Assert.Equal(0xC0, Read(uart, 2) & 0xC0);
        Write(uart, 7, 0xA5);
        Assert.Equal(0xA5, Read(uart, 7));
        Assert.Equal(0xB0, Read(uart, 6));
    }

    [Fact]
    public void DivisorLatchSharesOffsetsZeroAndOne()
    {
        Serial16550 uart = Create();
        Write(uart, 3, 0x83);
        Write(uart, 0, 0x01);
        Write(uart, 1, 0x02);
        Assert.Equal(0x01, Read(uart, 0));
        Assert.Equal(0x02, Read(uart, 1));
        Write(uart, 3, 0x03);
        Assert.Empty(_output);
        Assert.Equal(0x00, Read(uart, 1));
    }

    [Fact]
    public void ThrEmptyInterruptIsRaisedAfterEachWriteAndClearedByReadingIir()
    {
        Serial16550 uart = Create();
        Write(uart, 1, 0x02);
        int afterEnable = _interrupts;
        Assert.Equal(1, afterEnable);
        Assert.Equal(0xC2, Read(uart, 2));
        Assert.Equal(0xC1, Read(uart, 2));

        Write(uart, 0, 0x42);
        Assert.Equal(afterEnable + 1, _interrupts);
        Assert.Equal(0xC2, Read(uart, 2));
        Assert.Equal(0xC1, Read(uart, 2));
    }

    [Fact]
    public void HostInputSetsDataReadyRaisesRxInterruptAndDrainsInOrder()
    {
        Serial16550 uart = Create();
        Write(uart, 1, 0x01);
        uart.EnqueueInput("ok"u8);

        Assert.Equal(1, _interrupts);
        Assert.Equal(0x61, Read(uart, 5));
        Assert.Equal(0xC4, Read(uart, 2));
        Assert.Equal((byte)'o', Read(uart, 0));
        Assert.Equal((byte)'k', Read(uart, 0));
        Assert.Equal(0x60, Read(uart, 5));
        Assert.Equal(0xC1, Read(uart, 2));
    }

    [Fact]
    public void InputWithoutRxInterruptEnabledRaisesNothing()
    {
        Serial16550 uart = Create();
        uart.EnqueueInput("x"u8);
        Assert.Equal(0, _interrupts);
        Assert.Equal(0x61, Read(uart, 5));
    }

    [Fact]
    public void LoopbackReturnsTransmittedBytesAndMirrorsModemControl()
    {
        Serial16550 uart = Create();
        Write(uart, 4, 0x1F);
        Write(uart, 0, 0x5A);
        Assert.Empty(_output);
        Assert.Equal(0x5A, Read(uart, 0));
        Assert.Equal(0xF0, Read(uart, 6));
    }

    private static byte Read(Serial16550 uart, ulong offset)
    {
        Span<byte> data = stackalloc byte[1];
        uart.Read(offset, data);
        return data[0];
    }

    private static void Write(Serial16550 uart, ulong offset, byte value) => uart.Write(offset, [value]);
}
