namespace Vmm.Kvm.Devices;

/// <summary>
/// A 16550A UART as Linux's 8250 driver and early consoles expect it: registers at offsets 0-7 of its port range
/// (COM1 is 0x3F8, IRQ 4), output to a callback, host input into a receive FIFO, THR-empty and receive-data
/// interrupts raised as edges through a delegate.
/// </summary>
public sealed class Serial16550 : Core.Bus.IBusDevice
{
    /// <summary>The first port of COM1.</summary>
    public const ushort Com1Port = 0x3F8;

    /// <summary>The ISA IRQ (and GSI) of COM1.</summary>
    public const uint Com1Irq = 4;

    /// <summary>How many ports the UART decodes.</summary>
    public const int PortCount = 8;

    /// <summary>How many received bytes are kept for the guest; more are dropped (as an overrun would).</summary>
    public const int InputCapacity = 4096;

    private const byte IerReceivedData = 0x01;
    private const byte IerTransmitEmpty = 0x02;
    private const byte IerMask = 0x0F;
    private const byte IirNoInterrupt = 0x01;
    private const byte IirTransmitEmpty = 0x02;
    private const byte IirReceivedData = 0x04;
    private const byte IirFifoEnabled = 0xC0;
    private const byte LcrDivisorLatch = 0x80;
    private const byte McrLoopback = 0x10;
    private const byte McrMask = 0x1F;
    private const byte LsrDataReady = 0x01;
    private const byte LsrIdle = 0x60; // THR empty and transmitter empty: output never waits
    private const byte MsrDefault = 0xB0; // DCD, DSR, CTS

    private readonly Action<byte> _output;
    private readonly Action? _interrupt;
    private readonly Lock _lock = new();
    private readonly Queue<byte> _input = new();
    private byte _ier;
    private byte _lcr = 0x03;
    private byte _mcr = 0x08;
    private byte _scratch;
    private byte _divisorLow = 0x0C; // 9600 baud
    private byte _divisorHigh;
    private bool _transmitEmptyPending;

    /// <summary>Creates a UART.</summary>
    /// <param name="output">Receives each byte the guest transmits (on a vCPU thread: return quickly).</param>
    /// <param name="interrupt">Raises the UART's IRQ as an edge (for COM1: GSI 4), or null for a polled UART.</param>
    public Serial16550(Action<byte> output, Action? interrupt = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        _output = output;
        _interrupt = interrupt;
    }

    /// <summary>Creates a UART whose output is written to <paramref name="sink"/> byte by byte.</summary>
    public Serial16550(Stream sink, Action? interrupt = null)
        : this(sink is null ? throw new ArgumentNullException(nameof(sink)) : sink.WriteByte, interrupt)
    {
    }

    /// <summary>Queues bytes from the host for the guest to read, raising the receive interrupt when enabled.</summary>
    public void EnqueueInput(ReadOnlySpan<byte> data)
    {
        bool raise;
        lock (_lock)
        {
            foreach (byte value in data)
            {
                if (_input.Count < InputCapacity)
                {
                    _input.Enqueue(value);
                }
            }

            raise = data.Length > 0 && (_ier & IerReceivedData) != 0;
        }

        if (raise)
        {
            _interrupt?.Invoke();
        }
    }

    /// <inheritdoc/>
    public void Read(ulong offset, Span<byte> data)
    {
        data.Clear();
        if (data.IsEmpty)
        {
            return;
        }

        lock (_lock)
        {
            data[0] = ReadRegisterLocked(offset);
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
        bool raise = false;
        int transmitted = -1;
        lock (_lock)
        {
            switch (offset)
            {
                case 0 when (_lcr & LcrDivisorLatch) != 0:
                    _divisorLow = value;
                    break;
                case 0:
                    if ((_mcr & McrLoopback) != 0)
                    {
                        if (_input.Count < InputCapacity)
                        {
                            _input.Enqueue(value);
                        }

                        raise |= (_ier & IerReceivedData) != 0;
                    }
                    else
                    {
                        transmitted = value;
                    }

                    // The byte leaves at once, so the holding register is empty again.
                    _transmitEmptyPending = true;
                    raise |= (_ier & IerTransmitEmpty) != 0;
                    break;
                case 1 when (_lcr & LcrDivisorLatch) != 0:
                    _divisorHigh = value;
                    break;
                case 1:
                    byte previous = _ier;
                    _ier = (byte)(value & IerMask);

                    // As a real 16550: enabling the THR-empty interrupt while the THR is empty raises it.
                    if ((previous & IerTransmitEmpty) == 0 && (_ier & IerTransmitEmpty) != 0)
                    {
                        _transmitEmptyPending = true;
                        raise = true;
                    }

                    raise |= (previous & IerReceivedData) == 0 && (_ier & IerReceivedData) != 0 && _input.Count > 0;
                    break;
                case 2:
                    // FCR: FIFOs are always on; bit 1 clears the receive FIFO.
                    if ((value & 0x02) != 0)
                    {
                        _input.Clear();
                    }

                    break;
                case 3:
                    _lcr = value;
                    break;
                case 4:
                    _mcr = (byte)(value & McrMask);
                    break;
                case 7:
                    _scratch = value;
                    break;
            }
        }

        if (transmitted >= 0)
        {
            _output((byte)transmitted);
        }

        if (raise)
        {
            _interrupt?.Invoke();
        }
    }

    private byte ReadRegisterLocked(ulong offset)
    {
        switch (offset)
        {
            case 0 when (_lcr & LcrDivisorLatch) != 0:
                return _divisorLow;
            case 0:
                return _input.Count > 0 ? _input.Dequeue() : (byte)0;
            case 1 when (_lcr & LcrDivisorLatch) != 0:
                return _divisorHigh;
            case 1:
                return _ier;
            case 2:
                return ReadInterruptIdentificationLocked();
            case 3:
                return _lcr;
            case 4:
                return _mcr;
            case 5:
                return (byte)(LsrIdle | (_input.Count > 0 ? LsrDataReady : 0));
            case 6:
                return (_mcr & McrLoopback) != 0 ? LoopbackModemStatus() : MsrDefault;
            case 7:
                return _scratch;
            default:
                return 0xFF;
        }
    }

    private byte ReadInterruptIdentificationLocked()
    {
        if ((_ier & IerReceivedData) != 0 && _input.Count > 0)
        {
            return IirFifoEnabled | IirReceivedData;
        }

        if ((_ier & IerTransmitEmpty) != 0 && _transmitEmptyPending)
        {
            // Reading IIR while it reports THR empty acknowledges it.
            _transmitEmptyPending = false;
            return IirFifoEnabled | IirTransmitEmpty;
        }

        return IirFifoEnabled | IirNoInterrupt;
    }

    // In loopback, the modem status inputs follow the modem control outputs: DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD.
    private byte LoopbackModemStatus() =>
        (byte)((((_mcr & 0x01) != 0) ? 0x20 : 0) | (((_mcr & 0x02) != 0) ? 0x10 : 0) | (((_mcr & 0x04) != 0) ? 0x40 : 0) | (((_mcr & 0x08) != 0) ? 0x80 : 0));
}
