using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Vmm.Contracts.Display;
using Vmm.Contracts.Gpu;
using Vmm.Plugins.VirtioGpu.Blobs;
using Vmm.Plugins.VirtioGpu.Contexts;
using Vmm.Plugins.VirtioGpu.Protocol.Responses;
using Vmm.Plugins.VirtioGpu.Scanouts;

namespace Vmm.Plugins.VirtioGpu;

/// <summary>
/// A virtio-gpu device (virtio 1.2 §5.7) with the command set a Linux guest's fbcon and KMS clients use:
/// display info, EDID, 2D resources with guest backing, blob resources (guest pages or host memory from a context,
/// mapped into the host-visible window), scanouts, transfers, flushes and the cursor queue.
/// Scanout 0 is published as a display source: every RESOURCE_FLUSH becomes a frame with its damage.
/// </summary>
/// <remarks>
/// The device walks the queues and dispatches: each request is copied out of the guest once and decoded by
/// <see cref="GpuCommandDecoder"/>; the typed command goes to the part that owns it (<see cref="Resource2DHandler"/>,
/// <see cref="BlobHandler"/>, <see cref="ScanoutHandler"/>, <see cref="ContextHost"/>). A malformed one gets the
/// matching VIRTIO_GPU_RESP_ERR_* and never reaches host state. All commands complete synchronously, so a fenced
/// command's fence is signalled by its response, which echoes flags, fence_id, ctx_id and ring_idx; a fence on a
/// context ring waits for its context.
/// </remarks>
public sealed class VirtioGpuDevice : IVirtioDevice, IDisplaySource
{
    /// <summary>The meter the device's instruments belong to.</summary>
    public const string MeterName = "Vmm.VirtioGpu";

    private const int ControlQueue = 0;
    private const int CursorQueue = 1;

    private static readonly ushort[] s_queueMaxSizes = [256, 64];

    private readonly CommandLog _log;
    private readonly Meter? _ownedMeter;
    private readonly Counter<long> _commands;
    private readonly Counter<long> _errors;
    private readonly bool _edid;
    private readonly bool _resourceBlob;
    private readonly ulong _hostVisibleWindowSize;
    private readonly ResourceTable _resources;
    private readonly Resource2DHandler _resources2D;
    private readonly BlobHandler _blobs;
    private readonly DisplayPublisher _display;
    private readonly ScanoutHandler _scanouts;
    private readonly CursorHandler _cursor;
    private readonly ContextHost _contexts;
    private readonly GpuConfigSpace _config;

    // Reused for every request and response so the queue walk allocates nothing.
    private readonly byte[] _request = new byte[GpuCommandDecoder.MaxCommandSize];
    private readonly byte[] _response;

    private volatile IVirtioDeviceContext? _context;
    private int _resendPending;
    private bool _disposed;

    internal VirtioGpuDevice(string id, VirtioGpuOptions options, ILoggerFactory loggerFactory, IMeterFactory? meterFactory, IEnumerable<IGpuContextType>? contextTypes = null)
    {
        Id = id;
        _log = new CommandLog(loggerFactory.CreateLogger(MeterName), id);
        _edid = options.Edid;
        _resourceBlob = options.ResourceBlob;
        _hostVisibleWindowSize = options.ResourceBlob ? options.HostVisibleWindowSize : 0;
        Meter meter = meterFactory?.Create(MeterName) ?? (_ownedMeter = new Meter(MeterName));
        _commands = meter.CreateCounter<long>("vmm.virtio_gpu.commands", unit: "{command}", description: "Control and cursor commands handled.");
        _errors = meter.CreateCounter<long>("vmm.virtio_gpu.errors", unit: "{command}", description: "Commands answered with an error response.");
        Counter<long> frames = meter.CreateCounter<long>("vmm.virtio_gpu.frames", unit: "{frame}", description: "Frames published to the display sink.");

        _resources = new ResourceTable(options.MaxResources, options.MaxResourceBytes);
        var backingReader = new BackingReader(options.MaxBackingEntries, _log);
        _contexts = new ContextHost(contextTypes ?? [], _resources, _log, () => _context?.Memory, () => _context is { } c && c.Queues.Count > ControlQueue ? c.Queues[ControlQueue] : null, () => _context?.ScheduleQueue(ControlQueue));
        _resources2D = new Resource2DHandler(_resources, backingReader, _log, options.MirrorBacking);
        _blobs = new BlobHandler(_resources, backingReader, _contexts, _log);
        _display = new DisplayPublisher(_log, frames);
        _scanouts = new ScanoutHandler([.. options.Scanouts.Select(m => (m.Width, m.Height))], _edid, _resources, _display, _log);
        _cursor = new CursorHandler(_scanouts.Count, _resources, _display, _log);
        _config = new GpuConfigSpace(_scanouts.Count, _contexts.CapsetCount);
        _response = new byte[GpuControlHeader.Size + Math.Max(Unsafe.SizeOf<EdidResponse>(), _contexts.LargestCapset)];
    }

    /// <inheritdoc />
    public string Id { get; }

    /// <inheritdoc />
    public VirtioDeviceType DeviceType => VirtioDeviceType.Gpu;

    /// <inheritdoc />
    public ulong DeviceFeatures => (_edid ? GpuLayout.FeatureEdid : 0) | (_resourceBlob ? GpuLayout.FeatureResourceBlob : 0) | _contexts.Features;

    /// <inheritdoc />
    public IReadOnlyList<ushort> QueueMaxSizes => s_queueMaxSizes;

    /// <inheritdoc />
    public IReadOnlyList<SharedMemoryRegionRequest> SharedMemoryRegions
        => _hostVisibleWindowSize == 0 ? [] : [new SharedMemoryRegionRequest(VirtioGpuSharedMemory.HostVisibleId, _hostVisibleWindowSize)];

    /// <summary>Whether the platform gave the device its host-visible window (MAP_BLOB works).</summary>
    public bool HasHostVisibleWindow => _blobs.HasWindow;

    /// <inheritdoc />
    public int ConfigSize => GpuLayout.ConfigSize;

    /// <summary>The number of scanouts the guest sees.</summary>
    public int ScanoutCount => _scanouts.Count;

    /// <inheritdoc />
    public DisplayMode? CurrentMode => _display.CurrentMode;

    /// <inheritdoc />
    public void ReadConfig(int offset, Span<byte> data) => _config.Read(offset, data);

    /// <inheritdoc />
    public void WriteConfig(int offset, ReadOnlySpan<byte> data) => _config.Write(offset, data);

    /// <summary>
    /// Changes the mode scanout <paramref name="scanout"/> advertises (a display resize): sets
    /// VIRTIO_GPU_EVENT_DISPLAY and raises the config interrupt, so the guest re-reads EDID and display info.
    /// </summary>
    public void SetScanoutMode(int scanout, int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(scanout);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(scanout, _scanouts.Count);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 16);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 16);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(width, VirtioGpuOptions.MaxModeDimension);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(height, VirtioGpuOptions.MaxModeDimension);
        _scanouts.SetMode(scanout, width, height);
        _config.RaiseDisplayEvent();
        _context?.SignalConfigChanged();
    }

    /// <inheritdoc />
    public void Activate(IVirtioDeviceContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        ObjectDisposedException.ThrowIf(_disposed, this);
        _blobs.SetWindow(_hostVisibleWindowSize != 0 && context.TryGetSharedMemory(VirtioGpuSharedMemory.HostVisibleId, out ISharedMemoryRegion? region)
            ? region
            : null);
        _context = context;

        // A resize that came before activation had no context to interrupt through.
        if (_config.HasEvents)
        {
            context.SignalConfigChanged();
        }
    }

    /// <inheritdoc />
    public void ProcessQueue(int queueIndex)
    {
        IVirtioDeviceContext? context = _context;
        if (context is null || queueIndex >= context.Queues.Count)
        {
            return;
        }

        if (Interlocked.Exchange(ref _resendPending, 0) != 0)
        {
            _scanouts.Resend(context.Memory);
        }

        IVirtqueue queue = context.Queues[queueIndex];
        if (!queue.IsReady)
        {
            return;
        }

        // Contexts push completed fences from their own threads: every pop, push and notify holds the lock, never
        // a command's work (a SEND may block in sendmsg).
        Lock gate = _contexts.QueueLock;
        bool control = queueIndex == ControlQueue;
        bool pushed = false;
        try
        {
            if (control)
            {
                lock (gate)
                {
                    pushed = _contexts.CompleteSignalledFences(queue);
                }
            }

            while (true)
            {
                DescriptorChain? chain;
                lock (gate)
                {
                    if (!queue.TryPop(out chain))
                    {
                        break;
                    }
                }

                _commands.Add(1);
                uint? written = control ? HandleControl(chain, context.Memory) : HandleCursor(chain, context.Memory);
                if (written is null)
                {
                    continue;
                }

                lock (gate)
                {
                    queue.Push(chain, written.Value);
                }

                pushed = true;
            }

            if (control)
            {
                // A request parked after its fence signalled (a context that answered at once).
                lock (gate)
                {
                    pushed |= _contexts.CompleteSignalledFences(queue);
                }
            }
        }
        catch when (control)
        {
            _contexts.MarkQueueFailed();
            throw;
        }
        finally
        {
            if (pushed)
            {
                lock (gate)
                {
                    queue.NotifyGuest();
                }

            }
        }
    }

    /// <inheritdoc />
    public void Reset()
    {
        _context = null;
        _contexts.Reset();
        _blobs.ReleaseAll();
        _blobs.SetWindow(null);
        _scanouts.DisableAll();
        _config.Clear();
    }

    /// <inheritdoc />
    public void Connect(IDisplaySink sink)
    {
        ArgumentNullException.ThrowIfNull(sink);
        _display.Connect(sink);

        // The mode, a full frame and the cursor go out from the worker, which owns the resources.
        Volatile.Write(ref _resendPending, 1);
        _context?.ScheduleQueue(ControlQueue);
    }

    /// <inheritdoc />
    public void Disconnect() => _display.Disconnect();

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _context = null;
        _contexts.Reset();
        Disconnect();
        _blobs.ReleaseAll();
        _blobs.SetWindow(null);
        _ownedMeter?.Dispose();
    }

    private uint? HandleControl(DescriptorChain chain, IGuestMemory memory)
    {
        Span<byte> request = _request;
        request.Clear();
        int length = chain.Read(0, request);
        var response = new GpuResponse(_response.AsSpan(GpuControlHeader.Size));
        GpuControlHeader header = default;
        uint type;
        if (!GpuCommandDecoder.TryDecode(request[..length], out GpuCommand command, out GpuDecodeError error))
        {
            // A request too short for its header is answered with a zeroed header (nothing of it to echo).
            header = error.Kind == GpuDecodeErrorKind.ShorterThanHeader ? default : MemoryMarshal.Read<GpuControlHeader>(request);
            type = _log.Reject(header, error.Response, error.Reason);
        }
        else
        {
            header = command.Header;
            try
            {
                type = Dispatch(command, chain, memory, ref response);
            }
            catch (GuestMemoryException exception)
            {
                type = _log.Reject(header, GpuResponseType.ErrUnspecified, exception.Message);
            }
        }

        int responseLength = GpuControlHeader.Size + response.BodyLength;
        if (type >= GpuResponseType.ErrUnspecified)
        {
            responseLength = GpuControlHeader.Size;
            _errors.Add(1);
        }

        if (_contexts.ShouldPark(header, type))
        {
            _contexts.Park(chain, header);
            return null;
        }

        header.WriteResponse(type, _response);
        if (_log.Logger.IsEnabled(LogLevel.Trace))
        {
            VirtioGpuLog.CommandHandled(_log.Logger, Id, header.Type, length, header.Flags, type, responseLength, chain.WritableLength);
        }

        return (uint)chain.Write(0, _response.AsSpan(0, responseLength));
    }

    /// <summary>Hands a decoded command to the part that owns it; commands whose feature is not offered are unknown.</summary>
    private uint Dispatch(GpuCommand command, DescriptorChain chain, IGuestMemory memory, ref GpuResponse response)
    {
        GpuControlHeader header = command.Header;
        bool contexts = _contexts.IsEnabled;
        return header.Type switch
        {
            GpuCommandType.GetDisplayInfo => _scanouts.GetDisplayInfo(ref response),
            GpuCommandType.GetEdid => _scanouts.GetEdid(header, command.Read<GetEdid>(), ref response),
            GpuCommandType.ResourceCreate2D => _resources2D.Create(header, command.Read<ResourceCreate2D>()),
            GpuCommandType.ResourceUnref => Unref(header, command.Read<ResourceUnref>()),
            GpuCommandType.ResourceAttachBacking => _resources2D.AttachBacking(header, command.Read<ResourceAttachBacking>(), chain, memory),
            GpuCommandType.ResourceDetachBacking => _resources2D.DetachBacking(header, command.Read<ResourceDetachBacking>(), memory),
            GpuCommandType.SetScanout => _scanouts.SetScanout(header, command.Read<SetScanout>(), memory),
            GpuCommandType.TransferToHost2D => _resources2D.TransferToHost(header, command.Read<TransferToHost2D>(), memory),
            GpuCommandType.ResourceFlush => _scanouts.Flush(header, command.Read<ResourceFlush>(), memory),
            GpuCommandType.GetCapsetInfo => _contexts.GetCapsetInfo(header, command.Read<GetCapsetInfo>(), ref response),
            GpuCommandType.GetCapset => _contexts.GetCapset(header, command.Read<GetCapset>(), ref response),
            GpuCommandType.ContextCreate when contexts => _contexts.Create(header, command.Read<ContextCreate>()),
            GpuCommandType.ContextDestroy when contexts => _contexts.Destroy(header),
            GpuCommandType.ContextAttachResource when contexts => _contexts.Attach(header, command.Read<ContextAttachResource>(), memory),
            GpuCommandType.ContextDetachResource when contexts => _contexts.Detach(header, command.Read<ContextDetachResource>()),
            GpuCommandType.Submit3D when contexts => _contexts.Submit(header, command.Read<Submit3D>(), chain),
            GpuCommandType.ResourceCreateBlob when _resourceBlob => _blobs.Create(header, command.Read<ResourceCreateBlob>(), chain, memory),
            GpuCommandType.SetScanoutBlob when _resourceBlob => _scanouts.SetScanoutBlob(header, command.Read<SetScanoutBlob>(), memory),
            GpuCommandType.ResourceMapBlob when _resourceBlob => _blobs.Map(header, command.Read<ResourceMapBlob>(), ref response),
            GpuCommandType.ResourceUnmapBlob when _resourceBlob => _blobs.Unmap(header, command.Read<ResourceUnmapBlob>()),
            _ => _log.Reject(header, GpuResponseType.ErrUnspecified, "unknown or unsupported command"),
        };
    }

    /// <summary>RESOURCE_UNREF touches every part: scanouts stop showing it and contexts let go before its memory goes.</summary>
    private uint Unref(GpuControlHeader header, ResourceUnref command)
    {
        uint id = command.ResourceId;
        if (!_resources.Remove(id, out GpuResource? resource))
        {
            return _log.Reject(header, GpuResponseType.ErrInvalidResourceId, $"no resource {id}");
        }

        _scanouts.DisableShowing(id);
        _contexts.DetachFromAll(id);
        if (resource is GpuBlobResource blob)
        {
            _blobs.Release(blob);
        }

        return GpuResponseType.OkNoData;
    }

    private uint? HandleCursor(DescriptorChain chain, IGuestMemory memory)
    {
        // The cursor queue carries only device-readable buffers; nothing is written back (used length 0).
        Span<byte> request = _request;
        request.Clear();
        int length = chain.Read(0, request);
        _cursor.Handle(request[..length], memory);
        return 0;
    }
}
