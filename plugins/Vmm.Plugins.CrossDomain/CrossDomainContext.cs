using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;
using Tmds.Linux;
using Vmm.Contracts.Gpu;
using Vmm.Plugins.CrossDomain.Host;
using Vmm.Plugins.CrossDomain.Protocol;
using static Vmm.Plugins.CrossDomain.Protocol.CrossDomainLayout;

namespace Vmm.Plugins.CrossDomain;

/// <summary>
/// One cross-domain context: INIT connects the configured host socket for the channel type; SEND, WRITE and the
/// identifier translation run on the virtio-gpu worker, in queue order; a worker thread of its own waits on the
/// socket, read pipes and eventfds and answers each channel-ring (POLL) fence with exactly one message written at
/// offset 0 of the channel ring, then signals that fence. Forwarded futexes (FUTEX_NEW on a virtio-fs export) each
/// have a watcher thread whose wakes become FUTEX_SIGNAL messages. CTX_DESTROY (or a device reset) closes everything,
/// joins the watchers and signals the fences still parked, so no descriptor or thread is left behind.
/// </summary>
internal sealed unsafe partial class CrossDomainContext : IGpuContext
{
    private const uint MapCacheCached = 1;
    private const int MaxImageDimension = 16384;
    private const long MaxImageBytes = 256L << 20;

    /// <summary>The most futexes one context forwards at once (each is a mapping, an eventfd and a thread).</summary>
    internal const int MaxFutexes = 128;

    private readonly uint _id;
    private readonly IGpuContextHost _host;
    private readonly CrossDomainSettings _settings;
    private readonly ILogger _logger;
    private readonly Lock _sync = new();
    private readonly Dictionary<uint, IGpuResource> _attached = [];
    private readonly Dictionary<uint, SafeFileHandle> _blobFiles = [];
    private readonly HostItems _items = new();
    private readonly Dictionary<uint, ForwardedFutex> _futexes = [];
    private readonly Queue<ulong> _channelFences = new();
    private readonly List<CrossDomainCommand> _decoded = [];
    private readonly SafeFileHandle _wake;
    private IGpuResource? _queryRing;
    private IGpuResource? _channelRing;
    private UnixStream? _channel;
    private bool _initialized;
    private bool _channelEnded;
    private bool _sourcesPolled; // the worker's poll set holds the sources: a new fence needs no wake
    private bool _readyWithoutFence; // a source was ready while no fence waited: poll only the wake until one comes
    private Thread? _worker;
    private volatile bool _stopping;

    public CrossDomainContext(uint id, IGpuContextHost host, CrossDomainSettings settings, ILogger logger)
    {
        _id = id;
        _host = host;
        _settings = settings;
        _logger = logger;
        int wake = LibC.eventfd(0, LibC.EFD_CLOEXEC | LibC.EFD_NONBLOCK);
        if (wake < 0)
        {
            throw Fd.Error("eventfd");
        }

        _wake = Fd.Own(wake);
    }

    /// <summary>Host items held (received fds not yet imported, pipes, eventfds): for tests that count leaks.</summary>
    internal int ItemCount
    {
        get
        {
            lock (_sync)
            {
                return _items.Count;
            }
        }
    }

    /// <summary>Forwarded futexes whose watcher thread still runs: for tests that check DESTROY joins them.</summary>
    internal int LiveWatcherCount
    {
        get
        {
            lock (_sync)
            {
                return _futexes.Values.Count(f => f.WatcherAlive);
            }
        }
    }

    /// <inheritdoc />
    public void Submit(ReadOnlySpan<byte> commands)
    {
        lock (_sync)
        {
            _decoded.Clear();
            if (!CrossDomainDecoder.TryDecode(commands, _decoded, out CrossDomainError error))
            {
                throw Refuse(error);
            }

            // Every command was valid as bytes; each runs in order and the first that fails stops the rest.
            foreach (CrossDomainCommand command in _decoded)
            {
                Execute(command, commands);
            }
        }
    }

    /// <inheritdoc />
    public void CreateFence(uint ringIndex, ulong fenceId)
    {
        lock (_sync)
        {
            if (ringIndex == ChannelRing && _initialized && !_stopping)
            {
                _channelFences.Enqueue(fenceId);
                if (!_sourcesPolled)
                {
                    Wake();
                }

                return;
            }
        }

        // The query ring's answers were written during SUBMIT_3D; other rings have no work behind them.
        _host.CompleteFence(ringIndex, fenceId);
    }

    /// <inheritdoc />
    public void AttachResource(IGpuResource resource)
    {
        ArgumentNullException.ThrowIfNull(resource);
        lock (_sync)
        {
            _attached[resource.Id] = resource;
        }
    }

    /// <inheritdoc />
    public void DetachResource(uint resourceId)
    {
        // The rings stay usable through the views INIT kept: Linux detaches only when the DRM file closes.
        lock (_sync)
        {
            _attached.Remove(resourceId);
        }
    }

    /// <inheritdoc />
    public IGpuBlob? CreateBlob(uint resourceId, ulong blobId, ulong size)
    {
        lock (_sync)
        {
            if (blobId > uint.MaxValue || !_items.TryGet((uint)blobId, out HostItem item) || size == 0)
            {
                return null;
            }

            SafeFileHandle file;
            switch (item.Kind)
            {
                case HostItemKind.Blob when size <= item.Size:
                    // A received file is imported once (libkrun removes shm and dma-buf items on use).
                    file = item.TakeFile();
                    _items.Forget((uint)blobId);
                    break;
                case HostItemKind.ImageRequirements when size == item.Size:
                    file = Fd.CreateMemfd("vmm-cross-domain-image", (long)size);
                    break;
                default:
                    return null;
            }

            if (_blobFiles.Remove(resourceId, out SafeFileHandle? stale))
            {
                stale.Dispose();
            }

            // The context keeps its own descriptor so a later SEND of this resource can pass the file on.
            _blobFiles[resourceId] = Fd.Duplicate(file);
            return new FdBlob(file, size, () => ForgetBlob(resourceId));
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Thread? worker;
        lock (_sync)
        {
            if (_stopping)
            {
                return;
            }

            _stopping = true;
            worker = _worker;
            Wake();
        }

        worker?.Join();
        ulong[] parked;
        lock (_sync)
        {
            parked = [.. _channelFences];
            _channelFences.Clear();
            _channel?.Dispose();
            _items.Dispose();
            foreach (ForwardedFutex futex in _futexes.Values)
            {
                futex.Dispose();
            }

            _futexes.Clear();
            foreach (SafeFileHandle file in _blobFiles.Values)
            {
                file.Dispose();
            }

            _blobFiles.Clear();
            _attached.Clear();
        }

        // The parked POLL requests go back to the guest, or their descriptors would leak.
        foreach (ulong fence in parked)
        {
            _host.CompleteFence(ChannelRing, fence);
        }

        _wake.Dispose();
    }

    private void ForgetBlob(uint resourceId)
    {
        lock (_sync)
        {
            if (_blobFiles.Remove(resourceId, out SafeFileHandle? file))
            {
                file.Dispose();
            }
        }
    }

    // stream: the SUBMIT_3D bytes the commands were decoded from (SEND's and WRITE's data are ranges of it).
    private void Execute(CrossDomainCommand command, ReadOnlySpan<byte> stream)
    {
        switch (command)
        {
            case InitCommand init:
                Init(init);
                break;
            case GetImageRequirementsCommand request:
                GetImageRequirements(request);
                break;
            case PollCommand:
                // The fence that follows does the work; a POLL before INIT has no channel to wait on.
                RequireInitialized("POLL");
                break;
            case SendCommand send:
                Send(send, stream[send.Data]);
                break;
            case WriteCommand write:
                Write(write, stream[write.Data]);
                break;
            case ReadEventfdNewCommand eventfd:
                RequireInitialized("READ_EVENTFD_NEW");
                if (!_items.TryGet(eventfd.Id, out HostItem item) || item.Kind != HostItemKind.Eventfd)
                {
                    throw Refuse(CrossDomainErrorKind.UnknownIdentifier, $"READ_EVENTFD_NEW names {eventfd.Id}, which is not an eventfd of this context");
                }

                item.Polled = true;
                Wake();
                break;
            case FutexNewCommand futex:
                FutexNew(futex);
                break;
            case FutexSignalCommand signal:
                RequireInitialized("FUTEX_SIGNAL");
                FutexNamed(signal.Id, "FUTEX_SIGNAL").WakeHostWaiters();
                break;
            case FutexDestroyCommand destroy:
                RequireInitialized("FUTEX_DESTROY");
                FutexNamed(destroy.Id, "FUTEX_DESTROY").Dispose();
                _futexes.Remove(destroy.Id);
                Wake(); // the worker's poll set still names the closed eventfd
                break;
            default:
                throw Refuse(CrossDomainErrorKind.UnknownCommand, command.GetType().Name);
        }
    }

    private void Init(InitCommand init)
    {
        if (_initialized)
        {
            throw Refuse(CrossDomainErrorKind.BadState, "a second INIT");
        }

        if (!_attached.TryGetValue(init.QueryRingId, out IGpuResource? queryRing) || queryRing.Size < ImageRequirements.Size)
        {
            throw Refuse(CrossDomainErrorKind.BadRing, $"query ring {init.QueryRingId} is not attached to context {_id} or is smaller than {ImageRequirements.Size} bytes");
        }

        if (!_attached.TryGetValue(init.ChannelRingId, out IGpuResource? channelRing) || channelRing.Size < SendReceive.Size + 1)
        {
            throw Refuse(CrossDomainErrorKind.BadRing, $"channel ring {init.ChannelRingId} is not attached to context {_id} or is smaller than {SendReceive.Size + 1} bytes");
        }

        var channelType = (CrossDomainChannelType)init.ChannelType;
        if (channelType != CrossDomainChannelType.None)
        {
            DisplaySocket display = _settings.For(channelType)
                ?? throw Refuse(CrossDomainErrorKind.ChannelUnavailable, $"channel type 0x{init.ChannelType:x} is not configured on this host");
            try
            {
                _channel = display.Connect();
            }
            catch (IOException exception)
            {
                throw Refuse(CrossDomainErrorKind.ChannelUnavailable, exception.Message);
            }

            CrossDomainLog.ChannelConnected(_logger, _id, init.ChannelType, display.Name);
        }

        _queryRing = queryRing;
        _channelRing = channelRing;
        _initialized = true;
        _worker = new Thread(WorkerLoop) { IsBackground = true, Name = $"cross-domain {_id}" };
        _worker.Start();
    }

    private void GetImageRequirements(GetImageRequirementsCommand request)
    {
        RequireInitialized("GET_IMAGE_REQUIREMENTS");
        uint bytesPerPixel = BytesPerPixel(request.DrmFormat);
        if (bytesPerPixel == 0)
        {
            throw Refuse(CrossDomainErrorKind.Unsupported, $"DRM format 0x{request.DrmFormat:x8} cannot be allocated here");
        }

        if (request.Width is 0 or > MaxImageDimension || request.Height is 0 or > MaxImageDimension
            || (long)request.Width * request.Height * bytesPerPixel > MaxImageBytes)
        {
            throw Refuse(CrossDomainErrorKind.OutOfRange, $"an image of {request.Width}x{request.Height} (at most {MaxImageDimension} a side, {MaxImageBytes} bytes)");
        }

        // System gralloc, as libkrun without minigbm: linear, stride = width * bpp, one plane in a memfd.
        uint stride = request.Width * bytesPerPixel;
        ulong size = (ulong)stride * request.Height;
        uint id = _items.Add(new HostItem(HostItemKind.ImageRequirements, null, size))
            ?? throw Refuse(CrossDomainErrorKind.OutOfRange, $"context {_id} holds {HostItems.MaxItems} host items");
        Span<byte> reply = stackalloc byte[ImageRequirements.Size];
        CrossDomainMessages.WriteImageRequirements(reply, stride, size, id, MapCacheCached);
        _queryRing!.Write(0, reply);
    }

    private void Send(SendCommand send, ReadOnlySpan<byte> data)
    {
        RequireInitialized("SEND");
        UnixStream channel = _channel ?? throw Refuse(CrossDomainErrorKind.BadState, "SEND on a context without a channel");
        var fds = new List<SafeFileHandle>(send.Identifiers.Length);
        SafeFileHandle? readPipeEnd = null;
        try
        {
            foreach (CrossDomainIdentifier identifier in send.Identifiers)
            {
                switch ((CrossDomainIdentifierType)identifier.Type)
                {
                    case CrossDomainIdentifierType.VirtgpuBlob:
                        // Resolved now, in queue order: Linux detaches the resource right after this SEND.
                        if (!_attached.ContainsKey(identifier.Id) || !_blobFiles.TryGetValue(identifier.Id, out SafeFileHandle? file))
                        {
                            throw Refuse(CrossDomainErrorKind.UnknownIdentifier, $"resource {identifier.Id} is not attached to context {_id} or has no host memory");
                        }

                        fds.Add(Fd.Duplicate(file));
                        break;
                    case CrossDomainIdentifierType.ReadPipe:
                        if (readPipeEnd is not null || identifier.Id != _items.NextReadPipeId)
                        {
                            throw Refuse(CrossDomainErrorKind.UnknownIdentifier, $"read pipe {identifier.Id:x8} (expected {_items.NextReadPipeId:x8}, one per SEND)");
                        }

                        (SafeFileHandle readEnd, SafeFileHandle writeEnd) = Fd.Pipe();
                        readPipeEnd = readEnd;
                        fds.Add(writeEnd);
                        break;
                    case CrossDomainIdentifierType.Shm:
                        // libkrun: the futex id of a prior FUTEX_NEW; the server's xshmfence maps the same file.
                        fds.Add(Fd.Duplicate(FutexNamed(identifier.Id, "an SHM identifier").File));
                        break;
                    default:
                        throw Refuse(CrossDomainErrorKind.UnknownIdentifier, $"identifier {identifier.Id} of type {identifier.Type} cannot be sent");
                }
            }

            if (readPipeEnd is not null && !_items.TryAddReadPipe(readPipeEnd))
            {
                throw Refuse(CrossDomainErrorKind.OutOfRange, $"context {_id} holds {HostItems.MaxItems} host items");
            }

            bool pipeAdded = readPipeEnd is not null;
            readPipeEnd = null;
            try
            {
                channel.Send(data, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(fds));
            }
            catch (IOException exception)
            {
                throw Refuse(CrossDomainErrorKind.HostIo, exception.Message);
            }

            if (pipeAdded)
            {
                Wake();
            }
        }
        finally
        {
            readPipeEnd?.Dispose();
            foreach (SafeFileHandle fd in fds)
            {
                fd.Dispose();
            }
        }
    }

    private void Write(WriteCommand write, ReadOnlySpan<byte> data)
    {
        RequireInitialized("WRITE");
        if (!_items.TryGet(write.Identifier, out HostItem item) || item.Kind is not (HostItemKind.WritePipe or HostItemKind.Eventfd))
        {
            throw Refuse(CrossDomainErrorKind.UnknownIdentifier, $"WRITE names {write.Identifier}, which is not a write pipe or eventfd of this context");
        }

        if (item.Kind == HostItemKind.Eventfd && data.Length != 8)
        {
            throw Refuse(CrossDomainErrorKind.OutOfRange, $"an eventfd takes 8-byte writes, not {data.Length}");
        }

        try
        {
            Fd.WriteAll(item.File!, data);
        }
        catch (IOException exception)
        {
            // The reader went away: the guest learns it as it would from a broken pipe.
            _items.Remove(write.Identifier);
            throw Refuse(CrossDomainErrorKind.HostIo, exception.Message);
        }

        if (write.HangUp)
        {
            _items.Remove(write.Identifier);
        }
    }

    /// <summary>
    /// libkrun's FUTEX_NEW: the file the guest exported from virtio-fs (VIRTIO_IOC_EXPORT_FD) is looked up by
    /// (fs_id, handle), its first word mapped, and a watcher started whose wakes reach the guest as FUTEX_SIGNAL.
    /// </summary>
    private void FutexNew(FutexNewCommand command)
    {
        RequireInitialized("FUTEX_NEW");
        if (_futexes.ContainsKey(command.Id))
        {
            throw Refuse(CrossDomainErrorKind.DuplicateIdentifier, $"FUTEX_NEW {command.Id}: the context already forwards a futex of that id");
        }

        if (_futexes.Count >= MaxFutexes)
        {
            throw Refuse(CrossDomainErrorKind.OutOfRange, $"FUTEX_NEW {command.Id}: context {_id} forwards {MaxFutexes} futexes already");
        }

        SafeFileHandle file;
        try
        {
            file = _settings.OpenExport(command.FsId, command.Handle)
                ?? throw Refuse(CrossDomainErrorKind.UnknownIdentifier, $"FUTEX_NEW {command.Id}: no virtio-fs export (fs {command.FsId}, handle {command.Handle}){(_settings.Exports.Count == 0 ? " (no virtio-fs device shares an export table with this VM)" : string.Empty)}");
        }
        catch (IOException exception)
        {
            throw Refuse(CrossDomainErrorKind.HostIo, $"FUTEX_NEW {command.Id}: {exception.Message}");
        }

        try
        {
            _futexes.Add(command.Id, ForwardedFutex.Start(command.Id, file));
        }
        catch (IOException exception)
        {
            throw Refuse(CrossDomainErrorKind.HostIo, $"FUTEX_NEW {command.Id} (fs {command.FsId}, handle {command.Handle}): {exception.Message}");
        }

        // The worker polls the watcher's eventfd from its next round.
        Wake();
    }

    private ForwardedFutex FutexNamed(uint id, string what)
        => _futexes.TryGetValue(id, out ForwardedFutex? futex) ? futex
            : throw Refuse(CrossDomainErrorKind.UnknownIdentifier, $"{what} names futex {id}, which context {_id} does not forward");

    private void RequireInitialized(string command)
    {
        if (!_initialized)
        {
            throw Refuse(CrossDomainErrorKind.BadState, $"{command} before INIT");
        }
    }

    private void Wake()
    {
        ulong one = 1;
        LibC.write(Fd.Raw(_wake), &one, sizeof(ulong));
    }

    private Exception Refuse(CrossDomainErrorKind kind, string detail) => Refuse(new CrossDomainError(kind, detail));

    private Exception Refuse(CrossDomainError error)
    {
        CrossDomainLog.CommandRefused(_logger, _id, $"{error.Kind}: {error.Detail}");
        return error.ToException();
    }

    /// <summary>Bytes per pixel of the linear DRM formats a software X or Wayland client uses; 0 for others.</summary>
    private static uint BytesPerPixel(uint fourcc) => fourcc switch
    {
        0x34325258 or 0x34325241 or 0x34324258 or 0x34324241 => 4, // XR24 AR24 XB24 AB24
        0x30335258 or 0x30335241 or 0x30334258 or 0x30334241 => 4, // XR30 AR30 XB30 AB30
        0x36314752 => 2, // RG16
        0x20203852 => 1, // R8
        _ => 0,
    };
}
