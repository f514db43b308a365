using System.Buffers.Binary;
using System.Diagnostics.Metrics;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Extensions.Logging;
using Vmm.Contracts.Virtio;
using Vmm.Plugins.VirtioFs.PassthroughFs;
using Vmm.Plugins.VirtioFs.Server;

namespace Vmm.Plugins.VirtioFs;

/// <summary>
/// A virtio file-system device (virtio 1.2 §5.11, device id 26): queue 0 is hiprio (FORGETs), queues 1..N carry
/// FUSE requests, answered by a FUSE server (<see cref="FuseSession"/>) over a <see cref="PassthroughFileSystem"/> of
/// the shared host directory. With a DAX window the device asks for shared-memory region 0 and maps file ranges
/// into it on SETUPMAPPING.
/// </summary>
/// <remarks>
/// Every queue, hiprio included, has a thread of its own (<see cref="RequestQueueWorker"/>; hiprio's never polls), so
/// request-queue work never blocks hiprio (virtio 1.2 §5.11.6.1) and request queues never wait for each other. A
/// queue's notification wakes its thread directly (<see cref="IVirtioDirectNotification"/>); where the platform hands
/// over the queue's notifier eventfd (<see cref="IVirtioNotifierHandoff"/>, vhost-user), the thread waits on it
/// itself, as the C virtiofsd's queue threads do: a FORGET costs one wake-up, not the notifier's and the device
/// worker's. The sessions share one <see cref="FuseConnection"/>.
/// </remarks>
public sealed class VirtioFsDevice : IVirtioDevice, IVirtioDirectNotification, IVirtioNotifierHandoff
{
    /// <summary>The meter the device's instruments belong to.</summary>
    public const string MeterName = "Vmm.VirtioFs";

    /// <summary>The counter of FUSE requests answered.</summary>
    public const string RequestsCounterName = "vmm.virtio_fs.requests";

    /// <summary>The size of the tag field in the config space.</summary>
    public const int TagSize = 36;

    /// <summary>The size of <c>struct virtio_fs_config</c> without F_NOTIFICATION.</summary>
    public const int ConfigLength = 40;

    private const ushort HiprioQueueSize = 128;
    private const ushort RequestQueueSize = 1024;

    private readonly byte[] _config = new byte[ConfigLength];
    private readonly ushort[] _queueMaxSizes;
    private readonly SharedMemoryRegionRequest[] _sharedMemory;
    private readonly FuseConnection _connection;
    private readonly RequestQueueWorker[] _workers; // [0]: hiprio, [i]: request queue i
    private readonly Meter? _ownedMeter;
    private readonly Counter<long> _requests;
    private readonly Lock _sync = new();
    private bool _disposed;

    /// <summary>
    /// Creates the device over <paramref name="sharedDir"/> (an absolute path to an existing directory). With
    /// <paramref name="exports"/> the device takes an fs_id there and answers EXPORT_FD (futex files for cross-domain).
    /// </summary>
    public VirtioFsDevice(string id, string sharedDir, VirtioFsOptions options, ILoggerFactory loggerFactory, IMeterFactory? meterFactory, FileExportTable? exports = null)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(sharedDir);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        if (!VirtioFsDeviceFactory.IsValidTag(options.Tag))
        {
            throw new ArgumentException($"virtio-fs tag \"{options.Tag}\" is not 1 to {TagSize} characters of [A-Za-z0-9._-].", nameof(options));
        }

        Id = id;
        Encoding.UTF8.GetBytes(options.Tag, _config);
        BinaryPrimitives.WriteUInt32LittleEndian(_config.AsSpan(TagSize), (uint)options.NumRequestQueues);
        _queueMaxSizes = [HiprioQueueSize, .. Enumerable.Repeat(RequestQueueSize, Math.Max(1, options.NumRequestQueues))];
        ulong window = options.Dax?.WindowSize ?? 0;
        _sharedMemory = window == 0 ? [] : [new SharedMemoryRegionRequest(VirtioFsSharedMemory.CacheId, window)];
        ILogger logger = loggerFactory.CreateLogger(MeterName);
        Meter meter = meterFactory?.Create(MeterName) ?? (_ownedMeter = new Meter(MeterName));
        _requests = meter.CreateCounter<long>(RequestsCounterName, unit: "{request}", description: "FUSE requests answered.");
        var fileSystem = new PassthroughFileSystem(sharedDir, options) { Exports = exports?.Register() };
        _connection = new FuseConnection(fileSystem);
        if (!fileSystem.SwitchesCredentials)
        {
            VirtioFsLog.CredentialsUnavailable(logger, id, fileSystem.Privileged
                ? "root without CAP_SETUID/CAP_SETGID: new nodes are chowned to the caller afterwards"
                : "not root: new nodes belong to this process's user");
        }

        Counter<long> requests = _requests;
        _workers = new RequestQueueWorker[_queueMaxSizes.Length];
        for (int i = 0; i < _workers.Length; i++)
        {
            // Hiprio's FORGETs come one at a time and seldom: its thread sleeps between them.
            var session = new FuseSession(id, _connection, logger);
            _workers[i] = new RequestQueueWorker(id, session, i, fileSystem.SwitchesCredentials, fileSystem.Umask, n => requests.Add(n), logger, i == 0 ? 0 : options.RequestPollMicroseconds);
        }
    }

    /// <inheritdoc />
    public string Id { get; }

    /// <inheritdoc />
    public VirtioDeviceType DeviceType => VirtioDeviceType.FileSystem;

    /// <summary>No device-specific bits: VIRTIO_FS_F_NOTIFICATION is not offered (Linux 6.1 has no notification queue).</summary>
    public ulong DeviceFeatures => 0;

    /// <inheritdoc />
    public IReadOnlyList<ushort> QueueMaxSizes => _queueMaxSizes;

    /// <summary>Region 0 (the DAX window) when <c>dax.windowSize</c> is set; none otherwise.</summary>
    public IReadOnlyList<SharedMemoryRegionRequest> SharedMemoryRegions => _sharedMemory;

    /// <inheritdoc />
    public int ConfigSize => ConfigLength;

    /// <summary>Whether the current activation got a DAX window from the platform.</summary>
    public bool HasDaxWindow
    {
        get
        {
            lock (_sync)
            {
                return _workers[0].Session.HasWindow;
            }
        }
    }

    /// <inheritdoc />
    public void ReadConfig(int offset, Span<byte> data) => _config.AsSpan(offset, data.Length).CopyTo(data);

    /// <summary>The config space is read-only.</summary>
    public void WriteConfig(int offset, ReadOnlySpan<byte> data)
    {
    }

    /// <inheritdoc />
    public void Activate(IVirtioDeviceContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        lock (_sync)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            ISharedMemoryRegion? window = null;
            if (_sharedMemory.Length > 0 && context.TryGetSharedMemory(VirtioFsSharedMemory.CacheId, out ISharedMemoryRegion? region))
            {
                window = region;
            }

            foreach (RequestQueueWorker worker in _workers)
            {
                worker.Session.Reset();
                worker.Session.AttachWindow(window);
            }

            foreach (RequestQueueWorker worker in _workers)
            {
                worker.Attach(context);
            }
        }
    }

    /// <summary>Runs before each request on a request queue is dispatched, on that queue's thread (tests hold a queue busy).</summary>
    internal void SetRequestHook(Action<Fuse.FuseOpcode>? hook)
    {
        foreach (RequestQueueWorker worker in _workers.AsSpan(1))
        {
            worker.Session.BeforeDispatch = hook;
        }
    }

    /// <summary>
    /// A queue's notification wakes its thread from the notifier's thread, without a stop at the device worker. A
    /// queue whose thread failed (the worker must fail the device) goes the usual way.
    /// </summary>
    public bool TryNotifyDirectly(int queueIndex)
    {
        if (queueIndex < 0 || queueIndex >= _workers.Length)
        {
            return false;
        }

        RequestQueueWorker worker = _workers[queueIndex];
        if (worker.HasFailed)
        {
            return false;
        }

        worker.Schedule();
        return true;
    }

    /// <summary>Each queue's thread waits on its notifier itself.</summary>
    public bool TryTakeNotifier(int queueIndex, SafeHandle notifier)
    {
        ArgumentNullException.ThrowIfNull(notifier);
        if (queueIndex < 0 || queueIndex >= _workers.Length)
        {
            return false;
        }

        return _workers[queueIndex].SetNotifier(notifier);
    }

    /// <inheritdoc />
    public void ReleaseNotifier(int queueIndex)
    {
        if (queueIndex >= 0 && queueIndex < _workers.Length)
        {
            _workers[queueIndex].SetNotifier(null);
        }
    }

    /// <summary>On the device worker: rethrows what broke the queue's thread (the device fails), else wakes it.</summary>
    public void ProcessQueue(int queueIndex)
    {
        if (queueIndex >= 0 && queueIndex < _workers.Length)
        {
            RequestQueueWorker worker = _workers[queueIndex];
            worker.ThrowIfFailed();
            worker.Schedule();
        }
    }

    /// <inheritdoc />
    public void Reset()
    {
        lock (_sync)
        {
            foreach (RequestQueueWorker worker in _workers)
            {
                worker.Detach();
            }

            if (!_disposed)
            {
                foreach (RequestQueueWorker worker in _workers)
                {
                    worker.Session.Reset();
                }
            }
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        lock (_sync)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            foreach (RequestQueueWorker worker in _workers)
            {
                worker.Detach();
                worker.Dispose();
            }

            _connection.Dispose();
            _ownedMeter?.Dispose();
        }
    }
}
