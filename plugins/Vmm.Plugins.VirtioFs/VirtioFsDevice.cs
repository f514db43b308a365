using System.Buffers.Binary;
using System.Diagnostics.Metrics;
using System.Text;
using Microsoft.Extensions.Logging;
using Vmm.Contracts.Virtio;
using Vmm.Plugins.VirtioFs.Server;

namespace Vmm.Plugins.VirtioFs;

/// <summary>
/// A virtio file-system device (virtio 1.2 §5.11, device id 26): queue 0 is hiprio (FORGETs), queues 1..N carry
/// FUSE requests, answered by a passthrough server over the shared host directory. With a DAX window the device
/// asks for shared-memory region 0 and maps file ranges into it on SETUPMAPPING.
/// </summary>
public sealed class VirtioFsDevice : IVirtioDevice
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
    private readonly FuseSession _session;
    private readonly Meter? _ownedMeter;
    private readonly Counter<long> _requests;
    private readonly Lock _sync = new();
    private IVirtioDeviceContext? _context;
    private bool _disposed;

    /// <summary>Creates the device over <paramref name="sharedDir"/> (an absolute path to an existing directory).</summary>
    public VirtioFsDevice(string id, string sharedDir, VirtioFsOptions options, ILoggerFactory loggerFactory, IMeterFactory? meterFactory)
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
        _sharedMemory = window == 0 ? [] : [new SharedMemoryRegionRequest(SharedMemoryRegionRequest.VirtioFsCacheId, window)];
        _session = new FuseSession(id, sharedDir, options, loggerFactory.CreateLogger(MeterName));
        Meter meter = meterFactory?.Create(MeterName) ?? (_ownedMeter = new Meter(MeterName));
        _requests = meter.CreateCounter<long>(RequestsCounterName, unit: "{request}", description: "FUSE requests answered.");
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
                return _session.HasWindow;
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
            if (_sharedMemory.Length > 0 && context.TryGetSharedMemory(SharedMemoryRegionRequest.VirtioFsCacheId, out ISharedMemoryRegion? region))
            {
                window = region;
            }

            _session.Reset();
            _session.AttachWindow(window);
            _context = context;
        }
    }

    /// <inheritdoc />
    public void ProcessQueue(int queueIndex)
    {
        lock (_sync)
        {
            IVirtioDeviceContext? context = _context;
            if (context is null || _disposed || queueIndex < 0 || queueIndex >= context.Queues.Count)
            {
                return;
            }

            IVirtqueue queue = context.Queues[queueIndex];
            if (!queue.IsReady)
            {
                return;
            }

            long answered = 0;
            try
            {
                while (queue.TryPop(out DescriptorChain? chain))
                {
                    uint written = _session.Handle(chain, queueIndex);
                    queue.Push(chain, written);
                    answered++;
                }
            }
            finally
            {
                if (answered > 0)
                {
                    queue.NotifyGuest();
                    _requests.Add(answered);
                }
            }
        }
    }

    /// <inheritdoc />
    public void Reset()
    {
        lock (_sync)
        {
            _context = null;
            if (!_disposed)
            {
                _session.Reset();
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
            _context = null;
            _session.Dispose();
            _ownedMeter?.Dispose();
        }
    }
}
