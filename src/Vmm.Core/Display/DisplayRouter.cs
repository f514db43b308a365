using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Vmm.Contracts.Devices;
using Vmm.Contracts.Display;

namespace Vmm.Core.Display;

/// <summary>
/// Joins the active display source to the attached sinks. The router is the source's one sink and fans every call
/// out; a sink attached later, or every sink after a source switch, first gets the mode and a full frame (the
/// router reconnects the source, which resends them) and the last cursor. A sink that throws is detached at once and
/// its failure kept (<see cref="SinkFailure"/>) until it is attached again, so one broken sink cannot slow or stop the
/// others or the source.
/// </summary>
/// <remarks>
/// Locking: <c>_switchLock</c> serialises topology changes and is held while calling the source's
/// Connect/Disconnect; <c>_fanOutLock</c> guards the sink state and is held while fanning a source call out. A source
/// calls in holding its own lock, so the router never holds <c>_fanOutLock</c> while calling into a source.
/// </remarks>
public sealed class DisplayRouter : IDisplayRouter
{
    private readonly Dictionary<string, IDisplaySource> _sources = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IDisplaySink> _sinks = new(StringComparer.Ordinal);
    private readonly List<IDisplaySink> _attached = [];
    private readonly HashSet<IDisplaySink> _awaitingMode = [];
    private readonly Dictionary<string, string> _sinkFailures = new(StringComparer.Ordinal);
    private readonly Lock _switchLock = new();
    private readonly Lock _fanOutLock = new();
    private readonly ILogger _logger;

    private IDisplaySink[] _attachedSnapshot = [];
    private IDisplaySource? _active;
    // Written under both locks; read without one by AcceptsSegmentedFrames.
    private FanOut? _fanOut;
    private DisplayMode? _lastMode;
    private CursorShape? _lastCursorShape;
    private CursorPosition? _lastCursorPosition;

    /// <summary>Creates a router with no sources or sinks.</summary>
    public DisplayRouter(ILoggerFactory? loggerFactory = null)
    {
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("Vmm.Display");
    }

    /// <inheritdoc />
    public string? ActiveSourceId
    {
        get
        {
            lock (_switchLock)
            {
                return _active?.Id;
            }
        }
    }

    /// <inheritdoc />
    public IReadOnlyList<string> SinkIds
    {
        get
        {
            lock (_fanOutLock)
            {
                return [.. _attached.Select(s => s.Id)];
            }
        }
    }

    /// <summary>Every registered sink, attached or not, sorted by id.</summary>
    public IReadOnlyList<IDisplaySink> Sinks
    {
        get
        {
            lock (_switchLock)
            {
                return [.. _sinks.Values.OrderBy(s => s.Id, StringComparer.Ordinal)];
            }
        }
    }

    /// <summary>Every registered source, sorted by id.</summary>
    public IReadOnlyList<IDisplaySource> Sources
    {
        get
        {
            lock (_switchLock)
            {
                return [.. _sources.Values.OrderBy(s => s.Id, StringComparer.Ordinal)];
            }
        }
    }

    /// <summary>Why sink <paramref name="sinkId"/> was detached after it threw, or null when it has not failed since it was last attached.</summary>
    public string? SinkFailure(string sinkId)
    {
        lock (_fanOutLock)
        {
            return _sinkFailures.GetValueOrDefault(sinkId);
        }
    }

    /// <summary>The mode the active source last published, or null.</summary>
    public DisplayMode? CurrentMode
    {
        get
        {
            lock (_fanOutLock)
            {
                return _lastMode;
            }
        }
    }

    /// <summary>
    /// Registers every display source and sink among <paramref name="devices"/>: the first source becomes active
    /// (unless one already is) and every sink is attached.
    /// </summary>
    public void AddDevices(IEnumerable<IDevice> devices)
    {
        ArgumentNullException.ThrowIfNull(devices);
        foreach (IDevice device in devices)
        {
            if (device is IDisplaySource source)
            {
                AddSource(source);
            }

            if (device is IDisplaySink sink)
            {
                AddSink(sink, attach: true);
            }
        }
    }

    /// <summary>Registers a source; the first one registered becomes active.</summary>
    public void AddSource(IDisplaySource source)
    {
        ArgumentNullException.ThrowIfNull(source);
        bool first;
        lock (_switchLock)
        {
            if (!_sources.TryAdd(source.Id, source))
            {
                throw new InvalidOperationException($"A display source with id '{source.Id}' is already registered.");
            }

            first = _active is null;
        }

        if (first)
        {
            SwitchSource(source.Id);
        }
    }

    /// <summary>Registers a sink, attaching it when <paramref name="attach"/> is true.</summary>
    public void AddSink(IDisplaySink sink, bool attach = true)
    {
        ArgumentNullException.ThrowIfNull(sink);
        lock (_switchLock)
        {
            if (!_sinks.TryAdd(sink.Id, sink))
            {
                throw new InvalidOperationException($"A display sink with id '{sink.Id}' is already registered.");
            }
        }

        if (attach)
        {
            AttachSink(sink.Id);
        }
    }

    /// <summary>Unregisters a source; when it was active, no source is active afterwards.</summary>
    public void RemoveSource(string sourceId)
    {
        lock (_switchLock)
        {
            if (!_sources.Remove(sourceId, out IDisplaySource? source) || _active != source)
            {
                return;
            }

            lock (_fanOutLock)
            {
                _active = null;
                _fanOut = null;
                _lastMode = null;
            }

            source.Disconnect();
        }
    }

    /// <summary>Detaches and unregisters a sink.</summary>
    public void RemoveSink(string sinkId)
    {
        DetachSink(sinkId);
        lock (_switchLock)
        {
            _sinks.Remove(sinkId);
        }
    }

    /// <inheritdoc />
    public void SwitchSource(string sourceId)
    {
        ArgumentNullException.ThrowIfNull(sourceId);
        lock (_switchLock)
        {
            if (!_sources.TryGetValue(sourceId, out IDisplaySource? source))
            {
                throw new KeyNotFoundException($"No display source with id '{sourceId}'.");
            }

            IDisplaySource? previous = _active;
            var fanOut = new FanOut(this, source);
            lock (_fanOutLock)
            {
                _active = source;
                _fanOut = fanOut;
                _lastMode = null;
                _awaitingMode.UnionWith(_attached);
            }

            if (previous is not null && previous != source)
            {
                previous.Disconnect();
            }

            DisplayRouterLog.SourceSwitched(_logger, sourceId);
            source.Connect(fanOut);
        }
    }

    /// <inheritdoc />
    public void AttachSink(string sinkId)
    {
        ArgumentNullException.ThrowIfNull(sinkId);
        lock (_switchLock)
        {
            if (!_sinks.TryGetValue(sinkId, out IDisplaySink? sink))
            {
                throw new KeyNotFoundException($"No display sink with id '{sinkId}'.");
            }

            CursorShape? shape;
            CursorPosition? position;
            lock (_fanOutLock)
            {
                if (_attached.Contains(sink))
                {
                    return;
                }

                _attached.Add(sink);
                _attachedSnapshot = [.. _attached];
                _sinkFailures.Remove(sinkId);
                _awaitingMode.Add(sink);
                shape = _lastCursorShape;
                position = _lastCursorPosition;
            }

            DisplayRouterLog.SinkAttached(_logger, sinkId);
            if (shape is not null)
            {
                Deliver(sink, s => s.OnCursorShape(shape));
            }

            if (position is { } p)
            {
                Deliver(sink, s => s.OnCursorPosition(p));
            }

            // Reconnecting makes the source resend its mode and a full frame; sinks already showing that mode skip
            // the mode and just redraw.
            if (_active is { } active && _fanOut is { } fanOut)
            {
                active.Connect(fanOut);
            }
        }
    }

    /// <inheritdoc />
    public void DetachSink(string sinkId)
    {
        ArgumentNullException.ThrowIfNull(sinkId);
        lock (_fanOutLock)
        {
            int index = _attached.FindIndex(s => s.Id == sinkId);
            if (index < 0)
            {
                return;
            }

            _awaitingMode.Remove(_attached[index]);
            _attached.RemoveAt(index);
            _attachedSnapshot = [.. _attached];
        }

        DisplayRouterLog.SinkDetached(_logger, sinkId);
    }

    private void Deliver(IDisplaySink sink, Action<IDisplaySink> call)
    {
        try
        {
            call(sink);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            FailSink(sink, exception);
        }
    }

    /// <summary>Detaches a sink that threw and keeps why. Takes <c>_fanOutLock</c>, which may already be held (it is reentrant).</summary>
    private void FailSink(IDisplaySink sink, Exception exception)
    {
        DisplayRouterLog.SinkFailed(_logger, sink.Id, exception);
        lock (_fanOutLock)
        {
            // The fan-out loops walk the old snapshot array, so changing the list under them is safe.
            _awaitingMode.Remove(sink);
            if (_attached.Remove(sink))
            {
                _attachedSnapshot = [.. _attached];
            }

            _sinkFailures[sink.Id] = $"{exception.GetType().Name}: {exception.Message}";
        }

        DisplayRouterLog.SinkDetached(_logger, sink.Id);
    }

    private void OnModeChanged(FanOut from, DisplayMode mode)
    {
        lock (_fanOutLock)
        {
            if (from != _fanOut)
            {
                return;
            }

            bool same = _lastMode == mode;
            _lastMode = mode;
            foreach (IDisplaySink sink in _attachedSnapshot)
            {
                if (!same || _awaitingMode.Contains(sink))
                {
                    Deliver(sink, s => s.OnModeChanged(mode));
                }
            }

            _awaitingMode.Clear();
        }
    }

    private void OnFrame(FanOut from, DisplayFrame frame)
    {
        lock (_fanOutLock)
        {
            if (from != _fanOut)
            {
                return;
            }

            // The hot path: no closures, no allocation.
            foreach (IDisplaySink sink in _attachedSnapshot)
            {
                if (_awaitingMode.Count != 0 && _awaitingMode.Contains(sink))
                {
                    continue;
                }

                // Never reached by a source that asked first (AcceptsSegmentedFrames); a sink attached since gets the
                // full frame the source resends on attach.
                if (frame.IsSegmented && !TakesSegments(sink))
                {
                    continue;
                }

                try
                {
                    sink.OnFrame(frame);
                }
                catch (Exception exception) when (exception is not OutOfMemoryException)
                {
                    FailSink(sink, exception);
                }
            }
        }
    }

    /// <summary>Whether every attached sink takes segmented frames (what the fan-out tells the source).</summary>
    private bool AcceptsSegmentedFrames(FanOut from)
    {
        // A volatile read of the snapshot array, no lock: the source asks under its own lock, and a sink attached
        // after the answer is skipped by OnFrame until the source's resend.
        IDisplaySink[] sinks = Volatile.Read(ref _attachedSnapshot);
        if (from != Volatile.Read(ref _fanOut))
        {
            return false;
        }

        foreach (IDisplaySink sink in sinks)
        {
            if (!TakesSegments(sink))
            {
                return false;
            }
        }

        return true;
    }

    private static bool TakesSegments(IDisplaySink sink) => sink is IDisplaySegmentedFrameSink { AcceptsSegmentedFrames: true };

    private void OnCursorShape(FanOut from, CursorShape shape)
    {
        lock (_fanOutLock)
        {
            if (from != _fanOut)
            {
                return;
            }

            _lastCursorShape = shape;
            foreach (IDisplaySink sink in _attachedSnapshot)
            {
                Deliver(sink, s => s.OnCursorShape(shape));
            }
        }
    }

    private void OnCursorPosition(FanOut from, CursorPosition position)
    {
        lock (_fanOutLock)
        {
            if (from != _fanOut)
            {
                return;
            }

            _lastCursorPosition = position;
            foreach (IDisplaySink sink in _attachedSnapshot)
            {
                Deliver(sink, s => s.OnCursorPosition(position));
            }
        }
    }

    /// <summary>
    /// The sink a source publishes to; calls from a source that is no longer active are dropped. It takes segmented
    /// frames while every attached sink does.
    /// </summary>
    private sealed class FanOut(DisplayRouter router, IDisplaySource source) : IDisplaySegmentedFrameSink
    {
        public string Id => "display-router:" + source.Id;

        public bool AcceptsSegmentedFrames => router.AcceptsSegmentedFrames(this);

        public void OnModeChanged(DisplayMode mode) => router.OnModeChanged(this, mode);

        public void OnFrame(DisplayFrame frame) => router.OnFrame(this, frame);

        public void OnCursorShape(CursorShape shape) => router.OnCursorShape(this, shape);

        public void OnCursorPosition(CursorPosition position) => router.OnCursorPosition(this, position);

        public void Dispose()
        {
        }
    }
}
