using System.Buffers;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Vmm.Contracts.Input;

namespace Vmm.Core.Input;

/// <summary>
/// Joins input sources (the control API, a host evdev device, a VNC client) to the guest's input devices, and the
/// guest's status events (keyboard LEDs) to whoever listens. Publishing never blocks: targets queue and drop on
/// their own. A target or listener that throws is logged and contained.
/// </summary>
public sealed class InputRouter : IInputRouter, IDisposable
{
    /// <summary>The meter the router's instruments belong to.</summary>
    public const string MeterName = "Vmm.Input";

    /// <summary>Events handed to a target (including an added SYN_REPORT).</summary>
    public const string PublishedCounterName = "vmm.input.events.published";

    /// <summary>Events that found no target of the wanted kind or id.</summary>
    public const string UnroutedCounterName = "vmm.input.events.unrouted";

    // Frames up to this long get their SYN_REPORT appended on the stack; longer ones rent from the pool.
    private const int StackFrameLimit = 64;

    private readonly Lock _sync = new();
    private readonly ILogger _logger;
    private readonly IMeterFactory? _meterFactory;
    private Instruments? _instruments;
    private bool _disposed;
    private IInputTarget[] _targets = [];

    /// <summary>Creates a router with no targets.</summary>
    /// <remarks>
    /// Its meter and counters are made on the first event: every VM has a router, and a meter (the metrics
    /// EventSource, its assembly) is start-up time a VM without input devices would spend before its first vCPU entry.
    /// </remarks>
    public InputRouter(ILoggerFactory? loggerFactory = null, IMeterFactory? meterFactory = null)
    {
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger(MeterName);
        _meterFactory = meterFactory;
    }

    /// <inheritdoc />
    public event Action<string, InputEvent>? StatusReported;

    /// <summary>The current targets, in the order they were added.</summary>
    public IReadOnlyList<IInputTarget> Targets => Volatile.Read(ref _targets);

    /// <inheritdoc />
    /// <exception cref="ArgumentException">Another target already has this id.</exception>
    public void AddTarget(IInputTarget target)
    {
        ArgumentNullException.ThrowIfNull(target);
        lock (_sync)
        {
            IInputTarget[] current = _targets;
            foreach (IInputTarget existing in current)
            {
                if (ReferenceEquals(existing, target))
                {
                    return;
                }

                if (string.Equals(existing.Id, target.Id, StringComparison.Ordinal))
                {
                    throw new ArgumentException($"An input device with id '{target.Id}' is already registered.", nameof(target));
                }
            }

            Volatile.Write(ref _targets, [.. current, target]);
        }

        InputRouterLog.TargetAdded(_logger, target.Id, target.Kind);
    }

    /// <inheritdoc />
    public void RemoveTarget(IInputTarget target)
    {
        ArgumentNullException.ThrowIfNull(target);
        lock (_sync)
        {
            IInputTarget[] current = _targets;
            int index = Array.IndexOf(current, target);
            if (index < 0)
            {
                return;
            }

            Volatile.Write(ref _targets, [.. current[..index], .. current[(index + 1)..]]);
        }

        InputRouterLog.TargetRemoved(_logger, target.Id);
    }

    /// <summary>Finds the target <see cref="Publish"/> would use, or null.</summary>
    public IInputTarget? FindTarget(InputDeviceKind kind, string? targetId = null)
    {
        foreach (IInputTarget target in Volatile.Read(ref _targets))
        {
            if (target.Kind == kind && (targetId is null || string.Equals(target.Id, targetId, StringComparison.Ordinal)))
            {
                return target;
            }
        }

        return null;
    }

    /// <inheritdoc />
    /// <remarks>With <paramref name="targetId"/>, the device must have that id and be of <paramref name="kind"/>.</remarks>
    public bool Publish(InputDeviceKind kind, ReadOnlySpan<InputEvent> events, string? targetId = null)
    {
        IInputTarget? target = FindTarget(kind, targetId);
        if (target is null)
        {
            if (!events.IsEmpty)
            {
                Counters.Unrouted.Add(events.Length);
            }

            return false;
        }

        if (events.IsEmpty)
        {
            return true;
        }

        if (IsSynReport(events[^1]))
        {
            return DeliverTo(target, events);
        }

        int length = events.Length + 1;
        InputEvent[]? rented = null;
        Span<InputEvent> framed = length <= StackFrameLimit
            ? stackalloc InputEvent[StackFrameLimit]
            : (rented = ArrayPool<InputEvent>.Shared.Rent(length));
        try
        {
            events.CopyTo(framed);
            framed[events.Length] = InputEvent.SynReport;
            return DeliverTo(target, framed[..length]);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<InputEvent>.Shared.Return(rented);
            }
        }
    }

    /// <inheritdoc />
    public void ReportStatus(string deviceId, InputEvent status)
    {
        ArgumentNullException.ThrowIfNull(deviceId);
        Action<string, InputEvent>? handlers = StatusReported;
        if (handlers is null)
        {
            return;
        }

        foreach (Action<string, InputEvent> handler in handlers.GetInvocationList().Cast<Action<string, InputEvent>>())
        {
            try
            {
                handler(deviceId, status);
            }
#pragma warning disable CA1031 // a listener's failure must not reach the device's worker
            catch (Exception ex)
#pragma warning restore CA1031
            {
                InputRouterLog.StatusListenerFailed(_logger, deviceId, ex);
            }
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        lock (_sync)
        {
            _disposed = true;
            _instruments?.OwnedMeter?.Dispose();
        }
    }

    private Instruments Counters => Volatile.Read(ref _instruments) ?? CreateInstruments();

    private Instruments CreateInstruments()
    {
        lock (_sync)
        {
            if (_instruments is null)
            {
                Meter? owned = _meterFactory is null ? new Meter(MeterName) : null;
                Meter meter = owned ?? _meterFactory!.Create(MeterName);
                Instruments instruments = new(
                    meter.CreateCounter<long>(PublishedCounterName, unit: "{event}", description: "Input events handed to guest input devices."),
                    meter.CreateCounter<long>(UnroutedCounterName, unit: "{event}", description: "Input events with no device of the wanted kind or id."),
                    owned);
                if (_disposed)
                {
                    owned?.Dispose(); // an event after Dispose counts nowhere, as before
                }

                Volatile.Write(ref _instruments, instruments);
            }

            return _instruments;
        }
    }

    private static bool IsSynReport(InputEvent inputEvent) => inputEvent.Type == InputEventTypes.Syn && inputEvent.Code == 0;

    private bool DeliverTo(IInputTarget target, ReadOnlySpan<InputEvent> events)
    {
        try
        {
            target.Deliver(events);
        }
#pragma warning disable CA1031 // a plugin's device that throws is contained: the source goes on
        catch (Exception ex)
#pragma warning restore CA1031
        {
            InputRouterLog.TargetFailed(_logger, target.Id, ex);
            return false;
        }

        Counters.Published.Add(events.Length);
        return true;
    }

    private sealed record Instruments(Counter<long> Published, Counter<long> Unrouted, Meter? OwnedMeter);
}
