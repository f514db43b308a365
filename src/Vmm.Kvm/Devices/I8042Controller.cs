namespace Vmm.Kvm.Devices;

/// <summary>
/// Just enough of an i8042 keyboard controller for Linux to probe it and to reboot through it: register at port
/// 0x60 with length 5 (offset 0 is the data port, offset 4 the status/command port). Command 0xFE (pulse the reset
/// line), or clearing the reset bit of the output port, calls the reset delegate.
/// </summary>
public sealed class I8042Controller : Core.Bus.IBusDevice
{
    /// <summary>The data port.</summary>
    public const ushort DataPort = 0x60;

    /// <summary>How many ports the controller's range spans (0x60-0x64).</summary>
    public const int PortCount = 5;

    private const ulong DataOffset = 0;
    private const ulong CommandOffset = 4;
    private const byte StatusOutputFull = 0x01;
    private const byte StatusSystemFlag = 0x04;
    private const byte StatusCommandLast = 0x08;
    private const byte StatusKeyboardUnlocked = 0x10;

    private const byte CommandReadControl = 0x20;
    private const byte CommandWriteControl = 0x60;
    private const byte CommandSelfTest = 0xAA;
    private const byte CommandInterfaceTest = 0xAB;
    private const byte CommandDisableKeyboard = 0xAD;
    private const byte CommandEnableKeyboard = 0xAE;
    private const byte CommandReadOutputPort = 0xD0;
    private const byte CommandWriteOutputPort = 0xD1;
    private const byte CommandPulseReset = 0xFE;
    private const byte OutputPortResetLine = 0x01; // active low

    private readonly Action _resetRequested;
    private readonly Lock _lock = new();
    private byte _control = 0x05; // keyboard interrupt on, system flag (POST passed)
    private byte _outputPort = 0x03; // reset line high, A20 on
    private byte _status = StatusKeyboardUnlocked | StatusSystemFlag;
    private byte _output;
    private byte _pendingCommand;

    /// <summary>Creates the controller.</summary>
    /// <param name="resetRequested">Called (on a vCPU thread) when the guest resets the CPU through the controller.</param>
    public I8042Controller(Action resetRequested)
    {
        ArgumentNullException.ThrowIfNull(resetRequested);
        _resetRequested = resetRequested;
    }

    /// <inheritdoc/>
    public void Read(ulong offset, Span<byte> data)
    {
        data.Fill(0xFF);
        if (data.IsEmpty)
        {
            return;
        }

        lock (_lock)
        {
            if (offset == DataOffset)
            {
                data[0] = _output;
                _status &= unchecked((byte)~StatusOutputFull);
            }
            else if (offset == CommandOffset)
            {
                data[0] = _status;
            }
        }
    }

    /// <inheritdoc/>
    public void Write(ulong offset, ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            return;
        }

        byte value = data[0];
        bool reset = false;
        lock (_lock)
        {
            if (offset == CommandOffset)
            {
                _status |= StatusCommandLast;
                reset = ExecuteCommandLocked(value);
            }
            else if (offset == DataOffset)
            {
                _status &= unchecked((byte)~StatusCommandLast);
                reset = WriteDataLocked(value);
            }
        }

        if (reset)
        {
            _resetRequested();
        }
    }

    private bool ExecuteCommandLocked(byte command)
    {
        _pendingCommand = 0;
        switch (command)
        {
            case CommandReadControl:
                SetOutputLocked(_control);
                break;
            case CommandWriteControl:
            case CommandWriteOutputPort:
                _pendingCommand = command;
                break;
            case CommandSelfTest:
                SetOutputLocked(0x55);
                break;
            case CommandInterfaceTest:
                SetOutputLocked(0x00);
                break;
            case CommandDisableKeyboard:
                _control |= 0x10;
                break;
            case CommandEnableKeyboard:
                _control &= unchecked((byte)~0x10);
                break;
            case CommandReadOutputPort:
                SetOutputLocked(_outputPort);
                break;
            case CommandPulseReset:
                return true;
        }

        return false;
    }

    private bool WriteDataLocked(byte value)
    {
        byte command = _pendingCommand;
        _pendingCommand = 0;
        switch (command)
        {
            case CommandWriteControl:
                _control = value;
                return false;
            case CommandWriteOutputPort:
                _outputPort = value;
                return (value & OutputPortResetLine) == 0;
            default:
                // A byte for the keyboard itself: acknowledge it (there is no keyboard behind the controller).
                SetOutputLocked(0xFA);
                return false;
        }
    }

    private void SetOutputLocked(byte value)
    {
        _output = value;
        _status |= StatusOutputFull;
    }
}
