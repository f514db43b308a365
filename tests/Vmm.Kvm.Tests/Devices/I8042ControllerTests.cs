using Vmm.Kvm.Devices;
using Xunit;

namespace Vmm.Kvm.Tests.Devices;

public sealed class I8042ControllerTests
{
    private const ulong Data = 0;
    private const ulong Command = 4;
    private int _resets;

    [Fact]
    public void CommandFePulsesResetThroughTheDelegate()
    {
        I8042Controller controller = new(() => _resets++);
        controller.Write(Command, [0xFE]);
        Assert.Equal(1, _resets);
    }

    [Fact]
    public void WritingTheOutputPortWithResetLowResets()
    {
        I8042Controller controller = new(() => _resets++);
        controller.Write(Command, [0xD1]);
        controller.Write(Data, [0x03]);
        Assert.Equal(0, _resets);
        controller.Write(Command, [0xD1]);
        controller.Write(Data, [0x02]);
        Assert.Equal(1, _resets);
    }

    [Fact]
    public void ControlByteReadsBackThroughTheOutputBuffer()
    {
        I8042Controller controller = new(() => _resets++);
        Assert.Equal(0, Read(controller, Command) & 0x01);
        controller.Write(Command, [0x60]);
        controller.Write(Data, [0x47]);
        controller.Write(Command, [0x20]);
        Assert.Equal(0x01, Read(controller, Command) & 0x01);
        Assert.Equal(0x47, Read(controller, Data));
        Assert.Equal(0, Read(controller, Command) & 0x01);
        Assert.Equal(0, _resets);
    }

    [Fact]
    public void SelfTestAnswers0x55()
    {
        I8042Controller controller = new(() => _resets++);
        controller.Write(Command, [0xAA]);
        Assert.Equal(0x55, Read(controller, Data));
    }

    private static byte Read(I8042Controller controller, ulong offset)
    {
        Span<byte> data = stackalloc byte[1];
        controller.Read(offset, data);
        return data[0];
    }
}
