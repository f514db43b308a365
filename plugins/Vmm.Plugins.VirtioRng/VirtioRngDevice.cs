using System.Diagnostics.Metrics;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Vmm.Contracts.Virtio;
using Vmm.Plugins.VirtioRng.Entropy;

namespace Vmm.Plugins.VirtioRng;

/// <summary>
/// A virtio entropy device (virtio 1.2 §5.4): one request queue; the driver posts writable buffers and the device
/// fills them with random bytes. No feature bits, no config space.
/// </summary>
public sealed class VirtioRngDevice : IVirtioDevice
{
    /// <summary>The meter the device's instruments belong to.</summary>
    public const string MeterName = "Vmm.VirtioRng";

    /// <summary>The counter of bytes given to the guest.</summary>
    public const string BytesCounterName = "vmm.virtio_rng.bytes";

    private const int RequestQueue = 0;
    private const int ScratchSize = 4096;

    private static readonly ushort[] s_queueMaxSizes = [256];

    private readonly IEntropySource _source;
    private readonly ByteRateLimiter? _limiter;
    private readonly ITimer? _refillTimer;
    private readonly Meter? _ownedMeter;
    private readonly Counter<long> _bytes;
    private readonly ILogger _logger;

    // Reused for every request so the queue walk allocates nothing; wiped after each batch.
    private readonly byte[] _scratch = new byte[ScratchSize];

    private volatile IVirtioDeviceContext? _context;
    private int _refillArmed;
    private bool _sourceDryLogged;
    private bool _disposed;

    internal VirtioRngDevice(
        string id,
        IEntropySource source,
        long maxBytesPerPeriod,
        TimeSpan period,
        ILoggerFactory loggerFactory,
        IMeterFactory? meterFactory,
        TimeProvider timeProvider)
    {
        Id = id;
        _source = source;
        _logger = loggerFactory.CreateLogger(MeterName);
        if (maxBytesPerPeriod > 0)
        {
            _limiter = new ByteRateLimiter(maxBytesPerPeriod, period, timeProvider);
            _refillTimer = timeProvider.CreateTimer(static state => ((VirtioRngDevice)state!).OnRefill(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }

        Meter meter = meterFactory?.Create(MeterName) ?? (_ownedMeter = new Meter(MeterName));
        _bytes = meter.CreateCounter<long>(BytesCounterName, unit: "By", description: "Random bytes given to the guest.");
    }

    /// <inheritdoc />
    public string Id { get; }

    /// <inheritdoc />
    public VirtioDeviceType DeviceType => VirtioDeviceType.Entropy;

    /// <inheritdoc />
    public ulong DeviceFeatures => 0;

    /// <inheritdoc />
    public IReadOnlyList<ushort> QueueMaxSizes => s_queueMaxSizes;

    /// <inheritdoc />
    public IReadOnlyList<SharedMemoryRegionRequest> SharedMemoryRegions => [];

    /// <inheritdoc />
    public int ConfigSize => 0;

    /// <inheritdoc />
    public void ReadConfig(int offset, Span<byte> data) => data.Clear();

    /// <inheritdoc />
    public void WriteConfig(int offset, ReadOnlySpan<byte> data)
    {
    }

    /// <inheritdoc />
    public void Activate(IVirtioDeviceContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        ObjectDisposedException.ThrowIf(_disposed, this);
        _limiter?.Reset();
        _context = context;
    }

    /// <inheritdoc />
    public void ProcessQueue(int queueIndex)
    {
        IVirtioDeviceContext? context = _context;
        if (context is null || queueIndex != RequestQueue || context.Queues.Count <= RequestQueue)
        {
            return;
        }

        IVirtqueue queue = context.Queues[RequestQueue];
        if (!queue.IsReady)
        {
            return;
        }

        bool pushed = false;
        long total = 0;
        try
        {
            while (true)
            {
                long budget = _limiter?.Available() ?? long.MaxValue;
                if (budget <= 0)
                {
                    // Over budget: leave the requests queued and come back when the next period starts.
                    ArmRefill();
                    break;
                }

                if (!queue.TryPop(out DescriptorChain? chain))
                {
                    break;
                }

                int written = Fill(chain, budget);
                queue.Push(chain, (uint)written);
                _limiter?.Consume(written);
                total += written;
                pushed = true;
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(_scratch);
            if (pushed)
            {
                queue.NotifyGuest();
            }

            if (total > 0)
            {
                _bytes.Add(total);
            }
        }
    }

    /// <inheritdoc />
    public void Reset()
    {
        _context = null;
        _refillTimer?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        Volatile.Write(ref _refillArmed, 0);
        _limiter?.Reset();
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
        _refillTimer?.Dispose();
        _source.Dispose();
        _ownedMeter?.Dispose();
    }

    private int Fill(DescriptorChain chain, long budget)
    {
        long wanted = Math.Min(Math.Min(chain.WritableLength, budget), int.MaxValue);
        int done = 0;
        while (done < wanted)
        {
            Span<byte> chunk = _scratch.AsSpan(0, (int)Math.Min(wanted - done, _scratch.Length));
            int got = _source.Fill(chunk);
            done += chain.Write(done, chunk[..got]);
            if (got < chunk.Length)
            {
                LogSourceDry();
                break;
            }
        }

        return done;
    }

    private void ArmRefill()
    {
        if (Interlocked.Exchange(ref _refillArmed, 1) == 0)
        {
            _refillTimer!.Change(_limiter!.UntilNextPeriod(), Timeout.InfiniteTimeSpan);
        }
    }

    private void OnRefill()
    {
        Volatile.Write(ref _refillArmed, 0);
        _context?.ScheduleQueue(RequestQueue);
    }

    private void LogSourceDry()
    {
        if (!_sourceDryLogged)
        {
            _sourceDryLogged = true;
            VirtioRngLog.SourceRanDry(_logger, Id);
        }
    }
}
