using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Vmm.Contracts.Display;
using Vmm.Contracts.Gpu;
using Vmm.Contracts.Memory;
using Vmm.Contracts.Virtio;
using Vmm.Plugins.VirtioGpu.Protocol;
using Vmm.Plugins.VirtioGpu.Resources;

namespace Vmm.Plugins.VirtioGpu;

/// <summary>
/// A virtio-gpu device (virtio 1.2 §5.7) with the command set a Linux guest's fbcon and KMS clients use:
/// display info, EDID, 2D resources with guest backing, blob resources (guest pages or host memory from a context,
/// mapped into the host-visible window), scanouts, transfers, flushes and the cursor queue.
/// Scanout 0 is published as a display source: every RESOURCE_FLUSH becomes a frame with its damage.
/// </summary>
/// <remarks>
/// Every request is copied out of the guest once and validated; a malformed one gets the matching
/// VIRTIO_GPU_RESP_ERR_* and never reaches host state. All commands complete synchronously, so a fenced command's
/// fence is signalled by its response, which echoes flags, fence_id, ctx_id and ring_idx.
/// </remarks>
public sealed partial class VirtioGpuDevice : IVirtioDevice, IDisplaySource
{
    /// <summary>The meter the device's instruments belong to.</summary>
    public const string MeterName = "Vmm.VirtioGpu";

    private const int ControlQueue = 0;
    private const int CursorQueue = 1;

    // The longest fixed-size request this device parses (RESOURCE_FLUSH/TRANSFER are 48/56 bytes).
    private const int MaxFixedRequest = 96;
    private const int BackingChunkEntries = 256;

    private static readonly ushort[] s_queueMaxSizes = [256, 64];

    private readonly ILogger _logger;
    private readonly Meter? _ownedMeter;
    private readonly Counter<long> _commands;
    private readonly Counter<long> _errors;
    private readonly Counter<long> _frames;
    private readonly bool _edid;
    private readonly bool _resourceBlob;
    private readonly ulong _hostVisibleWindowSize;
    private readonly int _maxBackingEntries;
    private readonly ResourceTable _resources;
    private readonly Scanout[] _scanouts;
    private readonly Lock _modesLock = new();
    private readonly Lock _sinkLock = new();

    // Reused for every request and response so the queue walk allocates nothing.
    private readonly byte[] _request = new byte[MaxFixedRequest];
    private readonly byte[] _response;
    private readonly IGpuContextType[] _contextTypes;
    private readonly DamageRect[] _damage = new DamageRect[1];

    private volatile IVirtioDeviceContext? _context;
    private volatile ISharedMemoryRegion? _hostVisible;
    private IDisplaySink? _sink;
    private DisplayMode? _currentMode;
    private CursorShape? _cursorShape;
    private CursorPosition _cursorPosition;
    private int _resendPending;
    private int _eventsRead;
    private ulong _sequence;
    private bool _disposed;

    internal VirtioGpuDevice(string id, VirtioGpuOptions options, ILoggerFactory loggerFactory, IMeterFactory? meterFactory, IEnumerable<IGpuContextType>? contextTypes = null)
    {
        Id = id;
        _contextTypes = [.. (contextTypes ?? []).Where(t => t.CapsetId is > 0 and < 64).Take(16)];
        _response = new byte[Math.Max(GpuLayout.EdidResponseSize, GpuLayout.HeaderSize + _contextTypes.Select(t => Math.Clamp(t.CapsetMaxSize, 0, 1 << 16)).DefaultIfEmpty(0).Max())];
        _logger = loggerFactory.CreateLogger(MeterName);
        _edid = options.Edid;
        _resourceBlob = options.ResourceBlob;
        _hostVisibleWindowSize = options.ResourceBlob ? options.HostVisibleWindowSize : 0;
        _maxBackingEntries = options.MaxBackingEntries;
        _resources = new ResourceTable(options.MaxResources, options.MaxResourceBytes);
        _scanouts = [.. options.Scanouts.Select(m => new Scanout(m.Width, m.Height))];
        Meter meter = meterFactory?.Create(MeterName) ?? (_ownedMeter = new Meter(MeterName));
        _commands = meter.CreateCounter<long>("vmm.virtio_gpu.commands", unit: "{command}", description: "Control and cursor commands handled.");
        _errors = meter.CreateCounter<long>("vmm.virtio_gpu.errors", unit: "{command}", description: "Commands answered with an error response.");
        _frames = meter.CreateCounter<long>("vmm.virtio_gpu.frames", unit: "{frame}", description: "Frames published to the display sink.");
    }

    /// <inheritdoc />
    public string Id { get; }

    /// <inheritdoc />
    public VirtioDeviceType DeviceType => VirtioDeviceType.Gpu;

    /// <inheritdoc />
    public ulong DeviceFeatures => (_edid ? GpuLayout.FeatureEdid : 0) | (_resourceBlob ? GpuLayout.FeatureResourceBlob : 0) | ContextFeatures;

    /// <inheritdoc />
    public IReadOnlyList<ushort> QueueMaxSizes => s_queueMaxSizes;

    /// <inheritdoc />
    public IReadOnlyList<SharedMemoryRegionRequest> SharedMemoryRegions
        => _hostVisibleWindowSize == 0 ? [] : [new SharedMemoryRegionRequest(VirtioGpuSharedMemory.HostVisibleId, _hostVisibleWindowSize)];

    /// <summary>Whether the platform gave the device its host-visible window (MAP_BLOB works).</summary>
    public bool HasHostVisibleWindow => _hostVisible is not null;

    /// <inheritdoc />
    public int ConfigSize => GpuLayout.ConfigSize;

    /// <summary>The number of scanouts the guest sees.</summary>
    public int ScanoutCount => _scanouts.Length;

    /// <inheritdoc />
    public DisplayMode? CurrentMode
    {
        get
        {
            lock (_sinkLock)
            {
                return _currentMode;
            }
        }
    }

    /// <inheritdoc />
    public void ReadConfig(int offset, Span<byte> data)
    {
        Span<byte> config = stackalloc byte[GpuLayout.ConfigSize];
        BinaryPrimitives.WriteUInt32LittleEndian(config, (uint)Volatile.Read(ref _eventsRead));
        BinaryPrimitives.WriteUInt32LittleEndian(config[8..], (uint)_scanouts.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(config[12..], (uint)_contextTypes.Length);
        config.Slice(offset, data.Length).CopyTo(data);
    }

    /// <inheritdoc />
    public void WriteConfig(int offset, ReadOnlySpan<byte> data)
    {
        // Only events_clear (offset 4, write-1-to-clear) is writable.
        for (int i = 0; i < data.Length; i++)
        {
            int at = offset + i;
            if (at is >= 4 and < 8)
            {
                int bits = data[i] << ((at - 4) * 8);
                int current, next;
                do
                {
                    current = Volatile.Read(ref _eventsRead);
                    next = current & ~bits;
                }
                while (Interlocked.CompareExchange(ref _eventsRead, next, current) != current);
            }
        }
    }

    /// <summary>
    /// Changes the mode scanout <paramref name="scanout"/> advertises (a display resize): sets
    /// VIRTIO_GPU_EVENT_DISPLAY and raises the config interrupt, so the guest re-reads EDID and display info.
    /// </summary>
    public void SetScanoutMode(int scanout, int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(scanout);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(scanout, _scanouts.Length);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 16);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 16);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(width, VirtioGpuOptions.MaxModeDimension);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(height, VirtioGpuOptions.MaxModeDimension);
        lock (_modesLock)
        {
            _scanouts[scanout].Width = width;
            _scanouts[scanout].Height = height;
        }

        Interlocked.Or(ref _eventsRead, (int)GpuLayout.EventDisplay);
        _context?.SignalConfigChanged();
    }

    /// <inheritdoc />
    public void Activate(IVirtioDeviceContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        ObjectDisposedException.ThrowIf(_disposed, this);
        _hostVisible = _hostVisibleWindowSize != 0 && context.TryGetSharedMemory(VirtioGpuSharedMemory.HostVisibleId, out ISharedMemoryRegion? region)
            ? region
            : null;
        _context = context;

        // A resize that came before activation had no context to interrupt through.
        if (Volatile.Read(ref _eventsRead) != 0)
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
            ResendToSink(context.Memory);
        }

        IVirtqueue queue = context.Queues[queueIndex];
        if (!queue.IsReady)
        {
            return;
        }

        bool pushed = queueIndex == ControlQueue && CompleteSignalledFences(queue);
        try
        {
            while (queue.TryPop(out DescriptorChain? chain))
            {
                _commands.Add(1);
                uint? written = queueIndex == ControlQueue ? HandleControl(chain, context.Memory) : HandleCursor(chain);
                if (written is null)
                {
                    continue;
                }

                queue.Push(chain, written.Value);
                pushed = true;
            }
        }
        finally
        {
            if (pushed)
            {
                queue.NotifyGuest();
            }
        }
    }

    /// <inheritdoc />
    public void Reset()
    {
        _context = null;
        ResetContexts();
        ReleaseResources();
        _hostVisible = null;
        foreach (Scanout scanout in _scanouts)
        {
            scanout.Disable();
        }

        Volatile.Write(ref _eventsRead, 0);
    }

    /// <inheritdoc />
    public void Connect(IDisplaySink sink)
    {
        ArgumentNullException.ThrowIfNull(sink);
        lock (_sinkLock)
        {
            _sink = sink;
        }

        // The mode, a full frame and the cursor go out from the worker, which owns the resources.
        Volatile.Write(ref _resendPending, 1);
        _context?.ScheduleQueue(ControlQueue);
    }

    /// <inheritdoc />
    public void Disconnect()
    {
        lock (_sinkLock)
        {
            _sink = null;
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
        _context = null;
        ResetContexts();
        Disconnect();
        ReleaseResources();
        _hostVisible = null;
        _ownedMeter?.Dispose();
    }

    private uint? HandleControl(DescriptorChain chain, IGuestMemory memory)
    {
        Span<byte> request = _request;
        request.Clear();
        int length = chain.Read(0, request);
        GpuControlHeader header = GpuControlHeader.Read(request);
        int responseLength = GpuLayout.HeaderSize;
        uint response;
        if (length < GpuLayout.HeaderSize)
        {
            response = Reject(header, GpuResponseType.ErrUnspecified, "request shorter than its header");
            header = default;
        }
        else
        {
            try
            {
                response = Dispatch(header, request[..length], chain, memory, ref responseLength);
            }
            catch (GuestMemoryException exception)
            {
                response = Reject(header, GpuResponseType.ErrUnspecified, exception.Message);
            }
        }

        if (response >= GpuResponseType.ErrUnspecified)
        {
            responseLength = GpuLayout.HeaderSize;
            _errors.Add(1);
        }

        _parkCurrent = false;
        ParkIfRingFenced(header, response);
        if (_parkCurrent)
        {
            _parked.Add(new ParkedRequest(chain, header));
            return null;
        }

        header.WriteResponse(response, _response);
        if (_logger.IsEnabled(LogLevel.Trace))
        {
            VirtioGpuLog.CommandHandled(_logger, Id, header.Type, length, header.Flags, response, responseLength, chain.WritableLength);
        }

        return (uint)chain.Write(0, _response.AsSpan(0, responseLength));
    }

    private uint Dispatch(GpuControlHeader header, ReadOnlySpan<byte> request, DescriptorChain chain, IGuestMemory memory, ref int responseLength)
    {
        int needed = RequestSize(header.Type);
        if (needed == 0)
        {
            return Reject(header, GpuResponseType.ErrUnspecified, "unknown or unsupported command");
        }

        if (request.Length < needed)
        {
            return Reject(header, GpuResponseType.ErrUnspecified, $"request of {request.Length} bytes, {needed} needed");
        }

        switch (header.Type)
        {
            case GpuCommandType.GetDisplayInfo:
                responseLength = WriteDisplayInfo();
                return GpuResponseType.OkDisplayInfo;
            case GpuCommandType.GetEdid:
                return GetEdid(header, request, ref responseLength);
            case GpuCommandType.ResourceCreate2D:
                return CreateResource2D(header, request);
            case GpuCommandType.ResourceUnref:
                return UnrefResource(header, request);
            case GpuCommandType.ResourceAttachBacking:
                return AttachBacking(header, request, chain, memory);
            case GpuCommandType.ResourceDetachBacking:
                return DetachBacking(header, request);
            case GpuCommandType.SetScanout:
                return SetScanout(header, request);
            case GpuCommandType.TransferToHost2D:
                return TransferToHost2D(header, request, memory);
            case GpuCommandType.ResourceFlush:
                return Flush(header, request, memory);
            case GpuCommandType.GetCapsetInfo:
                return GetCapsetInfo(header, request, ref responseLength);
            case GpuCommandType.GetCapset:
                return GetCapset(header, request, ref responseLength);
            case GpuCommandType.ContextCreate when _contextTypes.Length != 0:
                return CreateContext(header, request);
            case GpuCommandType.ContextDestroy when _contextTypes.Length != 0:
                return DestroyContext(header);
            case GpuCommandType.ContextAttachResource when _contextTypes.Length != 0:
                return AttachToContext(header, request, memory, attach: true);
            case GpuCommandType.ContextDetachResource when _contextTypes.Length != 0:
                return AttachToContext(header, request, memory, attach: false);
            case GpuCommandType.Submit3D when _contextTypes.Length != 0:
                return Submit3D(header, request, chain);
            case GpuCommandType.ResourceCreateBlob when _resourceBlob:
                return CreateBlob(header, request, chain, memory);
            case GpuCommandType.SetScanoutBlob when _resourceBlob:
                return SetScanoutBlob(header, request, memory);
            case GpuCommandType.ResourceMapBlob when _resourceBlob:
                return MapBlob(header, request, ref responseLength);
            case GpuCommandType.ResourceUnmapBlob when _resourceBlob:
                return UnmapBlob(header, request);
            default:
                return Reject(header, GpuResponseType.ErrUnspecified, "unknown or unsupported command");
        }
    }

    private static int RequestSize(uint type) => type switch
    {
        GpuCommandType.GetDisplayInfo => 24,
        GpuCommandType.ResourceCreate2D => 40,
        GpuCommandType.ResourceUnref => 32,
        GpuCommandType.SetScanout => 48,
        GpuCommandType.ResourceFlush => 48,
        GpuCommandType.TransferToHost2D => 56,
        GpuCommandType.ResourceAttachBacking => 32,
        GpuCommandType.ResourceDetachBacking => 32,
        GpuCommandType.GetCapsetInfo => 32,
        GpuCommandType.GetCapset => 32,
        GpuCommandType.GetEdid => 32,
        GpuCommandType.ContextCreate => 96,
        GpuCommandType.ContextDestroy => 24,
        GpuCommandType.ContextAttachResource => 32,
        GpuCommandType.ContextDetachResource => 32,
        GpuCommandType.Submit3D => 32,
        GpuCommandType.ResourceCreateBlob => GpuLayout.CreateBlobSize,
        GpuCommandType.SetScanoutBlob => GpuLayout.SetScanoutBlobSize,
        GpuCommandType.ResourceMapBlob => GpuLayout.MapBlobSize,
        GpuCommandType.ResourceUnmapBlob => 32,
        _ => 0,
    };

    private uint Reject(GpuControlHeader header, uint response, string reason)
    {
        VirtioGpuLog.CommandRejected(_logger, Id, header.Type, response, reason);
        return response;
    }

    private static uint U32(ReadOnlySpan<byte> request, int offset) => BinaryPrimitives.ReadUInt32LittleEndian(request[offset..]);

    private int WriteDisplayInfo()
    {
        Span<byte> body = _response.AsSpan(GpuLayout.HeaderSize, GpuLayout.DisplayInfoResponseSize - GpuLayout.HeaderSize);
        body.Clear();
        lock (_modesLock)
        {
            for (int i = 0; i < _scanouts.Length; i++)
            {
                Span<byte> one = body.Slice(i * GpuLayout.DisplayOneSize, GpuLayout.DisplayOneSize);
                BinaryPrimitives.WriteUInt32LittleEndian(one[8..], (uint)_scanouts[i].Width);
                BinaryPrimitives.WriteUInt32LittleEndian(one[12..], (uint)_scanouts[i].Height);
                BinaryPrimitives.WriteUInt32LittleEndian(one[16..], 1);
            }
        }

        return GpuLayout.DisplayInfoResponseSize;
    }

    private uint GetEdid(GpuControlHeader header, ReadOnlySpan<byte> request, ref int responseLength)
    {
        if (!_edid)
        {
            return Reject(header, GpuResponseType.ErrUnspecified, "VIRTIO_GPU_F_EDID is not offered");
        }

        uint scanout = U32(request, 24);
        if (scanout >= _scanouts.Length)
        {
            return Reject(header, GpuResponseType.ErrInvalidParameter, $"no scanout {scanout}");
        }

        Span<byte> body = _response.AsSpan(GpuLayout.HeaderSize, GpuLayout.EdidResponseSize - GpuLayout.HeaderSize);
        body.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(body, EdidBlock.Size);
        lock (_modesLock)
        {
            ReadOnlySpan<(int, int)> modes = [(_scanouts[scanout].Width, _scanouts[scanout].Height)];
            EdidBlock.Write(modes, scanout + 1, body[8..]);
        }

        responseLength = GpuLayout.EdidResponseSize;
        return GpuResponseType.OkEdid;
    }

    private uint CreateResource2D(GpuControlHeader header, ReadOnlySpan<byte> request)
    {
        uint id = U32(request, 24);
        uint formatValue = U32(request, 28);
        uint width = U32(request, 32);
        uint height = U32(request, 36);
        if (id == 0 || _resources.Contains(id))
        {
            return Reject(header, GpuResponseType.ErrInvalidResourceId, $"resource id {id} is 0 or in use");
        }

        if (!GpuFormats.TryGet(formatValue, out PixelFormat format))
        {
            return Reject(header, GpuResponseType.ErrInvalidParameter, $"unknown format {formatValue}");
        }

        if (width == 0 || height == 0)
        {
            return Reject(header, GpuResponseType.ErrInvalidParameter, $"empty resource {width}x{height}");
        }

        // Both factors are below 2^32, so the product fits in 64 bits; the * 4 is checked against the limits.
        ulong pixels = (ulong)width * height;
        if (pixels > (ulong)Array.MaxLength / GpuLayout.BytesPerPixel || !_resources.CanAdd(pixels * GpuLayout.BytesPerPixel))
        {
            return Reject(header, GpuResponseType.ErrOutOfMemory, $"{width}x{height} exceeds the resource limits");
        }

        byte[] storage;
        try
        {
            storage = new byte[pixels * GpuLayout.BytesPerPixel];
        }
        catch (OutOfMemoryException)
        {
            return Reject(header, GpuResponseType.ErrOutOfMemory, "the host could not allocate the resource");
        }

        _resources.Add(new GpuResource2D(id, format, width, height, storage));
        return GpuResponseType.OkNoData;
    }

    private uint UnrefResource(GpuControlHeader header, ReadOnlySpan<byte> request)
    {
        uint id = U32(request, 24);
        if (!_resources.Remove(id, out GpuResource? resource))
        {
            return Reject(header, GpuResponseType.ErrInvalidResourceId, $"no resource {id}");
        }

        // As QEMU does: a scanout whose resource goes away is disabled rather than left pointing at nothing.
        foreach (Scanout scanout in _scanouts)
        {
            if (scanout.ResourceId == id)
            {
                scanout.Disable();
            }
        }

        // Contexts let go of the resource before its memory goes (a guest may unref without detaching), so none
        // reads a released blob or a freed backing.
        DetachFromContexts(id);
        if (resource is GpuBlobResource blob)
        {
            ReleaseBlob(blob);
        }

        return GpuResponseType.OkNoData;
    }

    private uint AttachBacking(GpuControlHeader header, ReadOnlySpan<byte> request, DescriptorChain chain, IGuestMemory memory)
    {
        uint id = U32(request, 24);
        uint count = U32(request, 28);
        if (_resources.TryGet(id, out GpuBlobResource? blob))
        {
            // As QEMU: a blob's guest pages come with RESOURCE_CREATE_BLOB and stay until unref (the spec's optional
            // swap-out/in through DETACH/ATTACH is not supported); a host-only blob has no guest side at all.
            return Reject(header, GpuResponseType.ErrUnspecified, $"blob resource {id} (blob_mem {blob.MemoryType}) takes no ATTACH_BACKING");
        }

        if (!_resources.TryGet(id, out GpuResource2D? resource))
        {
            return Reject(header, GpuResponseType.ErrInvalidResourceId, $"no resource {id}");
        }

        if (resource.Backing is not null)
        {
            return Reject(header, GpuResponseType.ErrUnspecified, $"resource {id} already has backing");
        }

        uint response = ReadBacking(header, chain, memory, 32, count, out GuestBacking? backing);
        if (backing is null)
        {
            return response;
        }

        resource.Backing = backing;
        return GpuResponseType.OkNoData;
    }

    /// <summary>
    /// Reads <paramref name="count"/> mem entries that follow the fixed part of a request (ATTACH_BACKING,
    /// CREATE_BLOB), checking each against guest memory; the entries may span descriptors.
    /// </summary>
    private uint ReadBacking(GpuControlHeader header, DescriptorChain chain, IGuestMemory memory, int entriesOffset, uint count, out GuestBacking? backing)
    {
        backing = null;
        if (count == 0 || count > _maxBackingEntries)
        {
            return Reject(header, GpuResponseType.ErrUnspecified, $"{count} backing entries (1 to {_maxBackingEntries} allowed)");
        }

        long needed = entriesOffset + ((long)count * GpuLayout.MemEntrySize);
        if (chain.ReadableLength < needed)
        {
            return Reject(header, GpuResponseType.ErrUnspecified, $"{count} backing entries need {needed} bytes, the request has {chain.ReadableLength}");
        }

        var runs = new GuestBuffer[count];
        Span<byte> chunk = stackalloc byte[BackingChunkEntries * GpuLayout.MemEntrySize];
        for (int first = 0; first < count; first += BackingChunkEntries)
        {
            int n = (int)Math.Min(BackingChunkEntries, count - first);
            Span<byte> entries = chunk[..(n * GpuLayout.MemEntrySize)];
            chain.Read(entriesOffset + ((long)first * GpuLayout.MemEntrySize), entries);
            for (int i = 0; i < n; i++)
            {
                ulong address = BinaryPrimitives.ReadUInt64LittleEndian(entries[(i * GpuLayout.MemEntrySize)..]);
                uint length = BinaryPrimitives.ReadUInt32LittleEndian(entries[((i * GpuLayout.MemEntrySize) + 8)..]);
                if (!memory.IsValidRange(address, length))
                {
                    return Reject(header, GpuResponseType.ErrUnspecified, $"backing entry {first + i} 0x{address:x}+0x{length:x} is outside guest memory");
                }

                runs[first + i] = new GuestBuffer(address, length);
            }
        }

        backing = new GuestBacking(runs);
        return GpuResponseType.OkNoData;
    }

    private uint DetachBacking(GpuControlHeader header, ReadOnlySpan<byte> request)
    {
        uint id = U32(request, 24);
        if (_resources.TryGet(id, out GpuBlobResource? _))
        {
            return Reject(header, GpuResponseType.ErrUnspecified, $"blob resource {id} keeps its pages until unref");
        }

        if (!_resources.TryGet(id, out GpuResource2D? resource))
        {
            return Reject(header, GpuResponseType.ErrInvalidResourceId, $"no resource {id}");
        }

        if (resource.Backing is null)
        {
            return Reject(header, GpuResponseType.ErrUnspecified, $"resource {id} has no backing");
        }

        resource.Backing = null;
        return GpuResponseType.OkNoData;
    }

    private uint SetScanout(GpuControlHeader header, ReadOnlySpan<byte> request)
    {
        GpuRect rect = GpuRect.Read(request[24..]);
        uint scanoutId = U32(request, 40);
        uint id = U32(request, 44);
        if (!TryBeginSetScanout(header, scanoutId, id, out Scanout? scanout, out uint response))
        {
            return response;
        }

        if (_resources.TryGet(id, out GpuBlobResource? _))
        {
            return Reject(header, GpuResponseType.ErrInvalidParameter, $"resource {id} is a blob: it needs SET_SCANOUT_BLOB");
        }

        if (!_resources.TryGet(id, out GpuResource2D? resource))
        {
            return Reject(header, GpuResponseType.ErrInvalidResourceId, $"no resource {id}");
        }

        if (rect.IsEmpty || !rect.FitsIn(resource.Width, resource.Height))
        {
            return Reject(header, GpuResponseType.ErrInvalidParameter, $"scanout rect {rect} is not inside resource {id} ({resource.Width}x{resource.Height})");
        }

        bool changed = scanout.ResourceId != id || scanout.Rect != rect || scanout.Blob is not null;
        scanout.ShowResource(id, rect);
        if (changed)
        {
            VirtioGpuLog.ScanoutSet(_logger, Id, scanoutId, id, rect.Width, rect.Height);
        }

        if (scanoutId == 0)
        {
            PublishMode(resource, rect);
            Publish(resource, rect, new DamageRect(0, 0, (int)rect.Width, (int)rect.Height));
        }

        return GpuResponseType.OkNoData;
    }

    /// <summary>
    /// What SET_SCANOUT and SET_SCANOUT_BLOB share: the scanout must exist, and resource 0 turns it off. False with
    /// the response to send when the command ends here.
    /// </summary>
    private bool TryBeginSetScanout(GpuControlHeader header, uint scanoutId, uint resourceId, [NotNullWhen(true)] out Scanout? scanout, out uint response)
    {
        scanout = null;
        response = GpuResponseType.OkNoData;
        if (scanoutId >= _scanouts.Length)
        {
            response = Reject(header, GpuResponseType.ErrInvalidScanoutId, $"no scanout {scanoutId}");
            return false;
        }

        if (resourceId == 0)
        {
            _scanouts[scanoutId].Disable();
            return false;
        }

        scanout = _scanouts[scanoutId];
        return true;
    }

    private uint TransferToHost2D(GpuControlHeader header, ReadOnlySpan<byte> request, IGuestMemory memory)
    {
        GpuRect rect = GpuRect.Read(request[24..]);
        ulong offset = BinaryPrimitives.ReadUInt64LittleEndian(request[40..]);
        uint id = U32(request, 48);
        if (_resources.TryGet(id, out GpuBlobResource? blob))
        {
            return TransferToBlob(header, blob);
        }

        if (!_resources.TryGet(id, out GpuResource2D? resource))
        {
            return Reject(header, GpuResponseType.ErrInvalidResourceId, $"no resource {id}");
        }

        if (!rect.FitsIn(resource.Width, resource.Height))
        {
            return Reject(header, GpuResponseType.ErrInvalidParameter, $"transfer rect {rect} is not inside resource {id} ({resource.Width}x{resource.Height})");
        }

        GuestBacking? backing = resource.Backing;
        if (backing is null)
        {
            return Reject(header, GpuResponseType.ErrUnspecified, $"resource {id} has no backing");
        }

        if (rect.IsEmpty)
        {
            return GpuResponseType.OkNoData;
        }

        // QEMU's rule (Linux's offset already points at the rect's first pixel): row r comes from
        // offset + r * stride and lands at (y + r) * stride + x * 4. Everything below is < 2^31 (the resource
        // fits a .NET array), so only the guest's 64-bit offset needs care.
        ulong stride = (ulong)resource.Stride;
        ulong rowBytes = (ulong)rect.Width * GpuLayout.BytesPerPixel;
        ulong span = ((rect.Height - 1) * stride) + rowBytes;
        if (offset > backing.Length || backing.Length - offset < span)
        {
            return Reject(header, GpuResponseType.ErrInvalidParameter, $"transfer of 0x{span:x} bytes at offset 0x{offset:x} overruns the 0x{backing.Length:x}-byte backing");
        }

        Span<byte> pixels = resource.Pixels;
        int destination = (int)((rect.Y * stride) + (rect.X * GpuLayout.BytesPerPixel));
        if (rect.X == 0 && rect.Width == resource.Width)
        {
            backing.Read(memory, offset, pixels.Slice(destination, (int)span));
        }
        else
        {
            for (uint row = 0; row < rect.Height; row++)
            {
                backing.Read(memory, offset + (row * stride), pixels.Slice(destination + (int)(row * stride), (int)rowBytes));
            }
        }

        return GpuResponseType.OkNoData;
    }

    private uint Flush(GpuControlHeader header, ReadOnlySpan<byte> request, IGuestMemory memory)
    {
        GpuRect rect = GpuRect.Read(request[24..]);
        uint id = U32(request, 40);
        if (_resources.TryGet(id, out GpuBlobResource? blob))
        {
            return FlushBlob(header, blob, rect, memory);
        }

        if (!_resources.TryGet(id, out GpuResource2D? resource))
        {
            return Reject(header, GpuResponseType.ErrInvalidResourceId, $"no resource {id}");
        }

        if (!rect.FitsIn(resource.Width, resource.Height))
        {
            return Reject(header, GpuResponseType.ErrInvalidParameter, $"flush rect {rect} is not inside resource {id} ({resource.Width}x{resource.Height})");
        }

        Scanout scanout = _scanouts[0];
        if (scanout.ResourceId == id && scanout.Blob is null)
        {
            // The damage in scanout coordinates: the flushed rect clipped to the shown part of the resource.
            GpuRect shown = scanout.Rect;
            long left = Math.Max(rect.X, shown.X);
            long top = Math.Max(rect.Y, shown.Y);
            long right = Math.Min((long)rect.X + rect.Width, (long)shown.X + shown.Width);
            long bottom = Math.Min((long)rect.Y + rect.Height, (long)shown.Y + shown.Height);
            if (right > left && bottom > top)
            {
                Publish(resource, shown, new DamageRect((int)(left - shown.X), (int)(top - shown.Y), (int)(right - left), (int)(bottom - top)));
            }
        }

        return GpuResponseType.OkNoData;
    }
}
