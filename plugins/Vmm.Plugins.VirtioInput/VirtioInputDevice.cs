using System.Buffers.Binary;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Vmm.Contracts.Input;
using Vmm.Contracts.Virtio;
using Vmm.Plugins.VirtioInput.Config;
using Vmm.Plugins.VirtioInput.Events;

namespace Vmm.Plugins.VirtioInput;

/// <summary>
/// A virtio-input device (virtio 1.2 §5.8): eventq (0) carries events to the guest, one 8-byte
/// <c>virtio_input_event</c> per buffer; statusq (1) carries the guest's status events (keyboard LEDs) back.
/// No device feature bits. Host input arrives through <see cref="Deliver"/> from any thread.
/// </summary>
/// <remarks>
/// Eventq rules, after QEMU's hw/input/virtio-input.c: only whole frames (ending in SYN_REPORT) go to the guest,
/// and a frame goes only once there are buffers for all of it; a frame longer than the queue is split, as it could
/// never fit whole. Unlike QEMU, a frame that does not fit yet waits in the bounded queue instead of being dropped.
/// A buffer shorter than 8 bytes gets the first bytes of its event and is returned with that length (QEMU does
/// the same; Linux ignores such a buffer), so that event is lost and counted. Events delivered while the driver
/// is not running are dropped and counted, as QEMU drops them.
/// </remarks>
public sealed class VirtioInputDevice : IVirtioDevice, IInputTarget
{
    /// <summary>The meter the device's instruments belong to.</summary>
    public const string MeterName = "Vmm.VirtioInput";

    /// <summary>Events dropped before reaching the guest; tag <c>reason</c>: overflow, inactive or short-buffer.</summary>
    public const string DroppedCounterName = "vmm.virtio_input.events.dropped";

    /// <summary>Events written into eventq buffers.</summary>
    public const string DeliveredCounterName = "vmm.virtio_input.events.delivered";

    /// <summary>Status events the guest wrote (EV_LED and the like).</summary>
    public const string StatusCounterName = "vmm.virtio_input.status.events";

    /// <summary>statusq buffers that did not hold exactly one event; consumed and ignored.</summary>
    public const string InvalidStatusCounterName = "vmm.virtio_input.status.invalid";

    /// <summary>The eventq index.</summary>
    public const int EventQueue = 0;

    /// <summary>The statusq index.</summary>
    public const int StatusQueue = 1;

    /// <summary>The size of <c>struct virtio_input_event</c>.</summary>
    public const int EventSize = 8;

    private static readonly ushort[] s_queueMaxSizes = [64, 64];

    private readonly InputDeviceProfile _profile;
    private readonly VirtioInputConfigSpace _config;
    private readonly IInputRouter? _router;
    private readonly ILogger _logger;
    private readonly Meter? _ownedMeter;
    private readonly Counter<long> _dropped;
    private readonly Counter<long> _delivered;
    private readonly Counter<long> _status;
    private readonly Counter<long> _invalidStatus;

    // Guards the pending events and the eventq buffers held for the next frame.
    private readonly Lock _sync = new();
    private readonly InputEventQueue _pending;
    private readonly DescriptorChain?[] _held;
    private int _heldCount;

    private volatile IVirtioDeviceContext? _context;
    private long _droppedTotal;
    private long _invalidStatusTotal;
    private bool _shortBufferLogged;
    private bool _invalidStatusLogged;
    private bool _disposed;

    internal VirtioInputDevice(string id, InputDeviceProfile profile, int queueBound, IInputRouter? router, ILoggerFactory loggerFactory, IMeterFactory? meterFactory)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        Id = id;
        _profile = profile;
        _config = new VirtioInputConfigSpace(profile);
        _pending = new InputEventQueue(queueBound);
        _held = new DescriptorChain?[s_queueMaxSizes[EventQueue]];
        _router = router;
        _logger = loggerFactory.CreateLogger(MeterName);
        Meter meter = meterFactory?.Create(MeterName) ?? (_ownedMeter = new Meter(MeterName));
        _dropped = meter.CreateCounter<long>(DroppedCounterName, unit: "{event}", description: "Input events dropped before reaching the guest.");
        _delivered = meter.CreateCounter<long>(DeliveredCounterName, unit: "{event}", description: "Input events written into eventq buffers.");
        _status = meter.CreateCounter<long>(StatusCounterName, unit: "{event}", description: "Status events (LEDs) the guest wrote.");
        _invalidStatus = meter.CreateCounter<long>(InvalidStatusCounterName, unit: "{buffer}", description: "statusq buffers that were not one 8-byte event.");
        _router?.AddTarget(this);
    }

    /// <inheritdoc cref="IInputTarget.Kind" />
    public InputDeviceKind Kind => _profile.Kind;

    /// <summary>The name the guest sees (ID_NAME).</summary>
    public string Name => _profile.Name;

    /// <summary>Whether the driver has brought the device up (DRIVER_OK) and not reset it since.</summary>
    public bool IsActive => _context is not null;

    /// <summary>Events dropped so far for any reason (also counted in <see cref="DroppedCounterName"/>).</summary>
    public long DroppedEvents => Interlocked.Read(ref _droppedTotal);

    /// <summary>statusq buffers rejected so far (also counted in <see cref="InvalidStatusCounterName"/>).</summary>
    public long InvalidStatusBuffers => Interlocked.Read(ref _invalidStatusTotal);

    /// <summary>Events waiting for eventq buffers.</summary>
    public int PendingEvents
    {
        get
        {
            lock (_sync)
            {
                return _pending.Count;
            }
        }
    }

    /// <inheritdoc />
    public string Id { get; }

    /// <inheritdoc />
    public VirtioDeviceType DeviceType => VirtioDeviceType.Input;

    /// <inheritdoc />
    public ulong DeviceFeatures => 0;

    /// <inheritdoc />
    public IReadOnlyList<ushort> QueueMaxSizes => s_queueMaxSizes;

    /// <inheritdoc />
    public IReadOnlyList<SharedMemoryRegionRequest> SharedMemoryRegions => [];

    /// <inheritdoc />
    public int ConfigSize => VirtioInputConfigSpace.Size;

    /// <inheritdoc />
    public void ReadConfig(int offset, Span<byte> data) => _config.Read(offset, data);

    /// <inheritdoc />
    public void WriteConfig(int offset, ReadOnlySpan<byte> data) => _config.Write(offset, data);

    /// <inheritdoc />
    public void Activate(IVirtioDeviceContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        ObjectDisposedException.ThrowIf(_disposed, this);
        lock (_sync)
        {
            _pending.Clear();
            ReleaseHeldLocked();
        }

        _context = context;
    }

    /// <inheritdoc />
    public void Deliver(ReadOnlySpan<InputEvent> events)
    {
        if (events.IsEmpty)
        {
            return;
        }

        IVirtioDeviceContext? context = _context;
        if (context is null)
        {
            CountDropped(events.Length, "inactive");
            return;
        }

        int dropped;
        lock (_sync)
        {
            dropped = _pending.Enqueue(events);
        }

        if (dropped > 0)
        {
            CountDropped(dropped, "overflow");
        }

        context.ScheduleQueue(EventQueue);
    }

    /// <inheritdoc />
    public void ProcessQueue(int queueIndex)
    {
        IVirtioDeviceContext? context = _context;
        if (context is null || queueIndex < 0 || queueIndex >= context.Queues.Count)
        {
            return;
        }

        IVirtqueue queue = context.Queues[queueIndex];
        if (!queue.IsReady)
        {
            return;
        }

        if (queueIndex == EventQueue)
        {
            DrainEvents(queue);
        }
        else if (queueIndex == StatusQueue)
        {
            ConsumeStatus(queue);
        }
    }

    /// <inheritdoc />
    public void Reset()
    {
        _context = null;
        _config.Reset();
        lock (_sync)
        {
            _pending.Clear();
            ReleaseHeldLocked();
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _router?.RemoveTarget(this);
        Reset();
        _ownedMeter?.Dispose();
    }

    private void DrainEvents(IVirtqueue queue)
    {
        Span<byte> wire = stackalloc byte[EventSize];
        int delivered = 0;
        int shortBuffers = 0;
        int capacity = Math.Min(queue.Size, _held.Length);
        lock (_sync)
        {
            while (true)
            {
                int frame = _pending.FirstFrameLength();
                if (frame == 0)
                {
                    break;
                }

                // A frame longer than the ring could never fit whole: it goes in ring-sized pieces.
                int take = Math.Min(frame, capacity);
                while (_heldCount < take && queue.TryPop(out DescriptorChain? chain))
                {
                    _held[_heldCount++] = chain;
                }

                if (_heldCount < take)
                {
                    break;
                }

                for (int i = 0; i < take; i++)
                {
                    InputEvent inputEvent = _pending[i];
                    BinaryPrimitives.WriteUInt16LittleEndian(wire, inputEvent.Type);
                    BinaryPrimitives.WriteUInt16LittleEndian(wire[2..], inputEvent.Code);
                    BinaryPrimitives.WriteInt32LittleEndian(wire[4..], inputEvent.Value);
                    DescriptorChain chain = _held[i]!;
                    int written = chain.Write(0, wire);
                    queue.Push(chain, (uint)written);
                    if (written < EventSize)
                    {
                        shortBuffers++;
                    }
                    else
                    {
                        delivered++;
                    }
                }

                ShiftHeldLocked(take);
                _pending.RemoveFirst(take);
            }
        }

        if (delivered + shortBuffers > 0)
        {
            queue.NotifyGuest();
            _delivered.Add(delivered);
        }

        if (shortBuffers > 0)
        {
            CountDropped(shortBuffers, "short-buffer");
            if (!_shortBufferLogged)
            {
                _shortBufferLogged = true;
                VirtioInputLog.ShortEventBuffer(_logger, Id, EventSize);
            }
        }
    }

    private void ConsumeStatus(IVirtqueue queue)
    {
        Span<byte> wire = stackalloc byte[EventSize];
        bool pushed = false;
        while (queue.TryPop(out DescriptorChain? chain))
        {
            // Linux posts exactly one 8-byte device-readable buffer per status event; anything else is garbage.
            bool valid = chain.ReadableLength == EventSize && chain.WritableLength == 0 && chain.Read(0, wire) == EventSize;

            // Nothing is written back: a status buffer is device-readable only.
            queue.Push(chain, 0);
            pushed = true;
            if (!valid)
            {
                Interlocked.Increment(ref _invalidStatusTotal);
                _invalidStatus.Add(1);
                if (!_invalidStatusLogged)
                {
                    _invalidStatusLogged = true;
                    VirtioInputLog.InvalidStatusBuffer(_logger, Id, chain.ReadableLength, chain.WritableLength);
                }

                continue;
            }

            var status = new InputEvent(
                BinaryPrimitives.ReadUInt16LittleEndian(wire),
                BinaryPrimitives.ReadUInt16LittleEndian(wire[2..]),
                BinaryPrimitives.ReadInt32LittleEndian(wire[4..]));
            _status.Add(1);
            _router?.ReportStatus(Id, status);
        }

        if (pushed)
        {
            queue.NotifyGuest();
        }
    }

    private void ShiftHeldLocked(int count)
    {
        int remaining = _heldCount - count;
        Array.Copy(_held, count, _held, 0, remaining);
        Array.Clear(_held, remaining, count);
        _heldCount = remaining;
    }

    private void ReleaseHeldLocked()
    {
        // The queue was (or is about to be) reset: its chains go back to its pool, never to the guest.
        Array.Clear(_held);
        _heldCount = 0;
    }

    private void CountDropped(int count, string reason)
    {
        Interlocked.Add(ref _droppedTotal, count);
        _dropped.Add(count, new KeyValuePair<string, object?>("reason", reason));
    }
}
