using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Logging.Abstractions;
using Vmm.Contracts.Input;
using Vmm.Contracts.Memory;
using Vmm.Contracts.Virtio;
using Vmm.Core.Memory;
using Vmm.Core.Virtio.Queues;
using Vmm.Plugins.VirtioInput.Config;
using Vmm.Testing.Virtio;

namespace Vmm.Plugins.VirtioInput.Tests;

/// <summary>
/// A virtio-input device wired to real split virtqueues over guest memory, driven from the guest side by
/// <see cref="DriverVirtqueue"/>s. Queue work the device schedules is counted; the test runs the worker's part
/// by calling <see cref="Pump"/>, so every step is deterministic.
/// </summary>
internal sealed class InputDeviceHarness : IVirtioDeviceContext, IDisposable
{
    private const ulong MemorySize = 4 << 20;
    private const ushort QueueSize = 16;

    private readonly GuestMemory _memory;
    private readonly SplitVirtqueue[] _queues;
    private readonly bool[] _scheduled = new bool[2];

    public InputDeviceHarness(InputDeviceKind kind = InputDeviceKind.Keyboard, int queueBound = 64, IInputRouter? router = null, ushort queueSize = QueueSize, int width = 0, int height = 0)
    {
        _memory = GuestMemory.Create(MemorySize);
        Allocator = new GuestMemoryAllocator(_memory, 0x1000, MemorySize);
        Router = router;
        Device = new VirtioInputDevice("input0", InputDeviceProfiles.Create(kind, null, "SN-1", width, height), queueBound, router, NullLoggerFactory.Instance, MeterFactory);
        _queues = new SplitVirtqueue[2];
        Drivers = new DriverVirtqueue[2];
        Interrupts = new RecordingInterruptLine[2];
        for (int i = 0; i < 2; i++)
        {
            Interrupts[i] = new RecordingInterruptLine();
            _queues[i] = new SplitVirtqueue(_memory, i, Device.QueueMaxSizes[i], Interrupts[i]);
            _queues[i].TrySetSize(queueSize);
            Drivers[i] = new DriverVirtqueue(_memory, Allocator, queueSize, eventIndex: false, indirect: false);
            _queues[i].DescriptorTableAddress = Drivers[i].DescriptorTableAddress;
            _queues[i].AvailableRingAddress = Drivers[i].AvailableRingAddress;
            _queues[i].UsedRingAddress = Drivers[i].UsedRingAddress;
            _queues[i].Enable(VirtioFeatures.Version1);
        }

        Device.Activate(this);
    }

    public VirtioInputDevice Device { get; }

    /// <summary>The factory the device's meter comes from; listeners filter on it as the meter's scope.</summary>
    public ScopedMeterFactory MeterFactory { get; } = new();

    public IInputRouter? Router { get; }

    public GuestMemoryAllocator Allocator { get; }

    public DriverVirtqueue[] Drivers { get; }

    public RecordingInterruptLine[] Interrupts { get; }

    public int ScheduleCount { get; private set; }

    public ulong NegotiatedFeatures => VirtioFeatures.Version1;

    public IGuestMemory Memory => _memory;

    public IReadOnlyList<IVirtqueue> Queues => _queues;

    public bool TryGetSharedMemory(byte id, [NotNullWhen(true)] out ISharedMemoryRegion? region)
    {
        region = null;
        return false;
    }

    public void ScheduleQueue(int queueIndex)
    {
        ScheduleCount++;
        _scheduled[queueIndex] = true;
    }

    public void SignalConfigChanged()
    {
    }

    /// <summary>Runs the device's worker for every queue it scheduled.</summary>
    public void Pump()
    {
        for (int i = 0; i < _scheduled.Length; i++)
        {
            if (_scheduled[i])
            {
                _scheduled[i] = false;
                Device.ProcessQueue(i);
            }
        }
    }

    /// <summary>Posts <paramref name="count"/> writable eventq buffers of <paramref name="length"/> bytes, as virtinput_fill_evt does, and notifies.</summary>
    public List<(ushort Head, ulong Address)> PostEventBuffers(int count, uint length = 8)
    {
        var posted = new List<(ushort, ulong)>();
        for (int i = 0; i < count; i++)
        {
            ulong address = Allocator.Allocate(Math.Max(length, 1), 8);
            _memory.GetSpan(address, (int)Math.Max(length, 1)).Fill(0xEE);
            ushort head = Drivers[VirtioInputDevice.EventQueue].Add([], [new GuestBuffer(address, length)]);
            posted.Add((head, address));
        }

        Device.ProcessQueue(VirtioInputDevice.EventQueue);
        return posted;
    }

    /// <summary>Takes every used eventq buffer and decodes the events the device wrote (only full 8-byte ones).</summary>
    public List<InputEvent> TakeEvents(Dictionary<ushort, ulong> addresses, List<uint>? lengths = null)
    {
        var events = new List<InputEvent>();
        while (Drivers[VirtioInputDevice.EventQueue].TryGetUsed(out ushort head, out uint length))
        {
            lengths?.Add(length);
            if (length != VirtioInputDevice.EventSize)
            {
                continue;
            }

            Span<byte> wire = _memory.GetSpan(addresses[head], 8);
            events.Add(new InputEvent(
                BinaryPrimitives.ReadUInt16LittleEndian(wire),
                BinaryPrimitives.ReadUInt16LittleEndian(wire[2..]),
                BinaryPrimitives.ReadInt32LittleEndian(wire[4..])));
        }

        return events;
    }

    /// <summary>Sends one status buffer made of <paramref name="readable"/> bytes (and optional writable ones) on statusq.</summary>
    public void SendStatus(ReadOnlySpan<byte> readable, uint writableLength = 0)
    {
        var readables = new List<GuestBuffer>();
        if (!readable.IsEmpty)
        {
            ulong address = Allocator.Allocate((ulong)readable.Length, 8);
            _memory.Write(address, readable);
            readables.Add(new GuestBuffer(address, (uint)readable.Length));
        }

        GuestBuffer[] writables = writableLength == 0 ? [] : [new GuestBuffer(Allocator.Allocate(writableLength, 8), writableLength)];
        Drivers[VirtioInputDevice.StatusQueue].Add(readables.ToArray(), writables);
        Device.ProcessQueue(VirtioInputDevice.StatusQueue);
    }

    public static byte[] EncodeEvent(InputEvent inputEvent)
    {
        byte[] wire = new byte[8];
        BinaryPrimitives.WriteUInt16LittleEndian(wire, inputEvent.Type);
        BinaryPrimitives.WriteUInt16LittleEndian(wire.AsSpan(2), inputEvent.Code);
        BinaryPrimitives.WriteInt32LittleEndian(wire.AsSpan(4), inputEvent.Value);
        return wire;
    }

    public void Dispose()
    {
        Device.Dispose();
        MeterFactory.Dispose();
        _memory.Dispose();
    }
}
