using System.Diagnostics;
using System.Numerics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Vmm.Contracts.Virtio;

namespace Vmm.Core.Virtio.Execution;

/// <summary>
/// The one thread a virtio device runs on. Notifications set a bit in a pending-queue mask (lock-free, from any
/// thread) and wake the thread, which calls <see cref="IVirtioDevice.Activate"/>,
/// <see cref="IVirtioDevice.ProcessQueue"/> and <see cref="IVirtioDevice.Reset"/> one at a time. Whatever the
/// device throws fails only this device: it is logged, <see cref="Failed"/> is raised (the transport sets
/// DEVICE_NEEDS_RESET) and the worker ignores its queues until the driver resets it. A call that does not return
/// within <see cref="HangLimit"/> fails the device the same way (a watchdog timer sees it): .NET cannot stop a
/// thread, so the stuck call keeps its thread, but the VM and the other devices go on, and a reset or dispose
/// waits for it no longer than the limit. A device that keeps what its calls took (file descriptors, threads, managed
/// memory) past its <see cref="DeviceLimits"/> is failed the same way; a <see cref="DeviceResourceMeter"/> counts
/// them on this thread, where they can be attributed to the device.
/// </summary>
/// <remarks>
/// A synchronous worker (<see cref="CreateSynchronous"/>) is a testing seam, never used by the VMM: it has no thread
/// and no watchdog, and runs the same calls on the thread that activates, notifies or resets it, before that call
/// returns. A fuzz harness then sees one thread only, so one input always takes the same path (coverage-guided
/// fuzzing needs that); the semantics (one call at a time, failure until reset) are the same.
/// </remarks>
public sealed class VirtioDeviceWorker : IDisposable
{
    private readonly IVirtioDevice _device;
    private readonly IVirtioDirectNotification? _direct;
    private readonly ILogger _logger;
    private readonly long[] _pending;
    private readonly int _queueCount;
    private readonly Thread? _thread; // null when synchronous
    private readonly ManualResetEventSlim _wake = new(false);
    private readonly ManualResetEventSlim _resetDone = new(false);
    private readonly object _controlLock = new();
    private readonly object _inlineLock = new();
    private readonly Timer? _watchdog;
    private readonly long _hangLimitTicks;
    private readonly DeviceResourceMeter? _meter; // null when synchronous, or where /proc cannot be read
    private IVirtioDeviceContext? _activation;
    private DirectFailure? _directFailure;
    private int _generation; // bumped by each reset: a direct notification's failure from before it is stale
    private volatile bool _resetRequested;
    private volatile bool _disposed;
    private volatile bool _failed;
    private volatile string? _failureReason;
    private volatile bool _hung; // failed by the watchdog: the worker thread is still inside the device
    private int _failing; // 1 once this failure was reported, so a hung call that later throws is not reported twice
    private long _callStarted; // Stopwatch timestamp of the call in progress on the worker, 0 when idle
    private volatile string _callOperation = ""; // with _callQueue: the call in progress, named only on failure
    private volatile int _callQueue = -1;
    private bool _active;
    private bool _inlineRunning; // synchronous: a caller is draining the work (re-entry only sets bits)

    /// <summary>How long a call into a device may run before the device is failed as hung, unless set otherwise.</summary>
    public static TimeSpan DefaultHangLimit { get; } = TimeSpan.FromSeconds(30);

    /// <summary>Starts the worker thread for <paramref name="device"/>.</summary>
    /// <param name="device">The device.</param>
    /// <param name="loggerFactory">Where failures are logged.</param>
    /// <param name="hangLimit">How long one call into the device may take (<see cref="DefaultHangLimit"/> when null).</param>
    public VirtioDeviceWorker(IVirtioDevice device, ILoggerFactory? loggerFactory = null, TimeSpan? hangLimit = null)
        : this(device, loggerFactory, hangLimit is { } hang ? DeviceLimits.Default with { Hang = hang } : DeviceLimits.Default, synchronous: false)
    {
    }

    /// <summary>Starts the worker thread for <paramref name="device"/>, which fails it past <paramref name="limits"/>.</summary>
    /// <param name="device">The device.</param>
    /// <param name="loggerFactory">Where failures are logged.</param>
    /// <param name="limits">How long a call may take and what the device may keep.</param>
    public VirtioDeviceWorker(IVirtioDevice device, ILoggerFactory? loggerFactory, DeviceLimits limits)
        : this(device, loggerFactory, limits, synchronous: false)
    {
    }

    private VirtioDeviceWorker(IVirtioDevice device, ILoggerFactory? loggerFactory, DeviceLimits limits, bool synchronous)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(limits);
        limits.Validate();
        _device = device;
        _direct = device as IVirtioDirectNotification;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<VirtioDeviceWorker>();
        _queueCount = device.QueueMaxSizes.Count;
        _pending = new long[Math.Max(1, (_queueCount + 63) / 64)];
        Limits = limits;
        HangLimit = limits.Hang;
        _hangLimitTicks = (long)(HangLimit.TotalSeconds * Stopwatch.Frequency);
        IsSynchronous = synchronous;
        if (synchronous)
        {
            return;
        }

        _meter = limits.Metered ? CreateMeter(limits, device, _logger) : null;

        TimeSpan period = TimeSpan.FromTicks(Math.Clamp(HangLimit.Ticks / 4, TimeSpan.TicksPerMillisecond * 10, TimeSpan.TicksPerSecond));
        _watchdog = new Timer(static state => ((VirtioDeviceWorker)state!).CheckForHang(), this, period, period);

        // ManualResetEventSlim allocates its lock object the first time a Wait has to block, which would otherwise
        // happen on the worker thread at some call or other; one short blocking wait here (nothing can set the
        // event yet) makes it now, so the worker's loop never allocates.
        _wake.Wait(1);
        _thread = new Thread(Run) { IsBackground = true, Name = $"virtio-{device.Id}" };
        _thread.Start();
    }

    /// <summary>
    /// A testing seam (fuzz harnesses): a worker without a thread or watchdog that runs <paramref name="device"/> on
    /// the thread that activates, notifies or resets it, before that call returns. Never for a running VM: a slow
    /// device call then holds up the vCPU that rang the doorbell.
    /// </summary>
    public static VirtioDeviceWorker CreateSynchronous(IVirtioDevice device, ILoggerFactory? loggerFactory = null)
        => new(device, loggerFactory, DeviceLimits.Default, synchronous: true);

    /// <summary>The device's limits (a synchronous worker, a testing seam without a thread, enforces none of them).</summary>
    public DeviceLimits Limits { get; }

    /// <summary>How long one call into the device may take before the device is failed as hung.</summary>
    public TimeSpan HangLimit { get; }

    /// <summary>True for a worker without a thread that runs the device on its callers' thread (a testing seam).</summary>
    public bool IsSynchronous { get; }

    /// <summary>Why the device failed (what threw, or which call hung), or null while it has not.</summary>
    public string? FailureReason => _failed ? _failureReason : null;

    /// <summary>
    /// Raised on the worker thread when the device threw. Handlers must not block on the transport's locks.
    /// </summary>
    public event Action<Exception>? Failed;

    /// <summary>Whether the device failed and waits for a reset.</summary>
    public bool IsFailed => _failed;

    /// <summary>
    /// True while no call into the device is in progress or pending (a test's way to know that a call it saw the
    /// effects of has also been checked against the limits).
    /// </summary>
    internal bool IsBetweenCalls
    {
        get
        {
            if (Volatile.Read(ref _callStarted) != 0)
            {
                return false;
            }

            for (int i = 0; i < _pending.Length; i++)
            {
                if (Volatile.Read(ref _pending[i]) != 0)
                {
                    return false;
                }
            }

            return true;
        }
    }

    /// <summary>Whether the device is activated and healthy.</summary>
    public bool IsActive => Volatile.Read(ref _active) && !_failed;

    /// <summary>Asks the worker to activate the device with <paramref name="context"/>, then to poll every queue once.</summary>
    public void Activate(IVirtioDeviceContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        Volatile.Write(ref _activation, context);
        _wake.Set();
        RunInline();
    }

    /// <summary>
    /// A guest notification of <paramref name="queueIndex"/>: wakes the worker, or, for a device that serves the queue
    /// on a thread of its own (<see cref="IVirtioDirectNotification"/>) and is active, that thread directly. Safe
    /// from any thread; allocates nothing.
    /// </summary>
    public void Notify(int queueIndex)
    {
        if ((uint)queueIndex >= (uint)_queueCount)
        {
            return;
        }

        if (_direct is not null && !IsSynchronous && IsActive && !_resetRequested && TryNotifyDirectly(queueIndex))
        {
            return;
        }

        Schedule(queueIndex);
    }

    /// <summary>
    /// Has the worker call <see cref="IVirtioDevice.ProcessQueue"/> for <paramref name="queueIndex"/> (what
    /// <see cref="IVirtioDeviceContext.ScheduleQueue"/> promises a device). Safe from any thread; allocates nothing.
    /// </summary>
    public void Schedule(int queueIndex)
    {
        if ((uint)queueIndex >= (uint)_queueCount)
        {
            return;
        }

        long bit = 1L << (queueIndex & 63);
        if ((Interlocked.Or(ref _pending[queueIndex >> 6], bit) & bit) == 0)
        {
            _wake.Set();
        }

        RunInline();
    }

    /// <summary>
    /// Resets the device on its thread and waits for it: pending work is dropped, a failure is cleared, and the
    /// device must be activated again.
    /// </summary>
    public void Reset()
    {
        lock (_controlLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _resetDone.Reset();
            _resetRequested = true;
            _wake.Set();
            RunInline();
            if (_hung || !_resetDone.Wait(HangLimit))
            {
                // The worker is stuck in the device: the reset happens when (if) the call returns.
                VirtioDeviceWorkerLog.ResetAbandoned(_logger, _device.Id, _device.DeviceType, HangLimit.TotalSeconds);
            }
        }
    }

    /// <summary>Stops the thread and waits for it.</summary>
    public void Dispose()
    {
        lock (_controlLock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _wake.Set();
        }

        _watchdog?.Dispose();
        if (_thread is not null && Thread.CurrentThread != _thread && !_thread.Join(_hung ? TimeSpan.Zero : HangLimit))
        {
            // A call that never returns keeps its (background) thread; the events stay for it to use.
            VirtioDeviceWorkerLog.DisposeAbandoned(_logger, _device.Id, _device.DeviceType, HangLimit.TotalSeconds);
            return;
        }

        _wake.Dispose();
        _resetDone.Dispose();
        _meter?.Dispose();
    }

    private static DeviceResourceMeter? CreateMeter(DeviceLimits limits, IVirtioDevice device, ILogger logger)
    {
        try
        {
            return new DeviceResourceMeter(limits, device.Id);
        }
        catch (Exception exception) when (exception is Vmm.Interop.NativeCallException or DllNotFoundException or EntryPointNotFoundException)
        {
            VirtioDeviceWorkerLog.MeterUnavailable(logger, exception, device.Id, device.DeviceType);
            return null;
        }
    }

    private void CheckForHang()
    {
        long started = Volatile.Read(ref _callStarted);
        if (started != 0 && !_failed && Stopwatch.GetTimestamp() - started > _hangLimitTicks)
        {
            string call = CallName();
            Fail(call, new TimeoutException($"{call} has not returned after {HangLimit.TotalSeconds:0.#} s."), hung: true);
        }
    }

    private bool TryNotifyDirectly(int queueIndex)
    {
        int generation = Volatile.Read(ref _generation);
        try
        {
            return _direct!.TryNotifyDirectly(queueIndex);
        }
#pragma warning disable CA1031 // On the notifier's thread: handed to the worker, which fails the device as for any device bug.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            Interlocked.CompareExchange(ref _directFailure, new DirectFailure(exception, generation), null);
            return false;
        }
    }

    private void Run()
    {
        while (true)
        {
            _wake.Wait();
            _wake.Reset();
            if (!RunOnce())
            {
                return;
            }
        }
    }

    /// <summary>Synchronous: does the work the thread would do, here and now, until none is left.</summary>
    private void RunInline()
    {
        if (!IsSynchronous)
        {
            return;
        }

        lock (_inlineLock)
        {
            if (_inlineRunning)
            {
                return; // a device call on this thread asked for more work: the loop below picks it up
            }

            _inlineRunning = true;
            try
            {
                while (_wake.IsSet)
                {
                    _wake.Reset();
                    if (!RunOnce())
                    {
                        return;
                    }
                }
            }
            finally
            {
                _inlineRunning = false;
            }
        }
    }

    /// <summary>One round of the worker loop; false once disposed.</summary>
    private bool RunOnce()
    {
        if (_disposed)
        {
            return false;
        }

        if (_resetRequested)
        {
            ResetOnWorker();
        }

        if (Interlocked.Exchange(ref _activation, null) is IVirtioDeviceContext context && !_failed)
        {
            if (Invoke("Activate", context, -1))
            {
                Volatile.Write(ref _active, true);
                VirtioDeviceWorkerLog.DeviceActivated(_logger, _device.Id, _device.DeviceType);

                // A notify may have come before activation finished: look at every queue once.
                for (int i = 0; i < _pending.Length; i++)
                {
                    Interlocked.Or(ref _pending[i], -1L);
                }
            }
        }

        if (Interlocked.Exchange(ref _directFailure, null) is { } directFailure && directFailure.Generation == _generation && _active && !_failed)
        {
            Fail("TryNotifyDirectly", directFailure.Exception, hung: false);
        }

        if (!_active || _failed)
        {
            ClearPending();
            return true;
        }

        ProcessPending();
        return true;
    }

    private void ProcessPending()
    {
        for (int word = 0; word < _pending.Length; word++)
        {
            ulong bits = (ulong)Interlocked.Exchange(ref _pending[word], 0);
            while (bits != 0)
            {
                int bit = BitOperations.TrailingZeroCount(bits);
                bits &= bits - 1;
                int queue = (word * 64) + bit;
                if (queue >= _queueCount)
                {
                    break;
                }

                if (!Invoke("ProcessQueue", null, queue) || _failed)
                {
                    return; // a call the watchdog failed may still return normally: the device stays failed
                }

                if (_resetRequested || _disposed)
                {
                    // Let the loop handle it; keep what is left for after.
                    Interlocked.Or(ref _pending[word], (long)bits);
                    _wake.Set();
                    return;
                }
            }
        }
    }

    private bool Invoke(string operation, IVirtioDeviceContext? context, int queue)
    {
        // The hot path: two stores, no string built unless the call fails.
        _callOperation = operation;
        _callQueue = queue;
        Volatile.Write(ref _callStarted, Stopwatch.GetTimestamp());
        _meter?.Begin(always: context is not null); // activation starts what a device keeps: always measured
        string? overLimit;
        try
        {
            if (context is not null)
            {
                _device.Activate(context);
            }
            else
            {
                _device.ProcessQueue(queue);
            }
        }
#pragma warning disable CA1031 // A device (plugin) bug of any kind must fail only that device.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            _meter?.End();
            Fail(CallName(), exception, hung: false);
            Volatile.Write(ref _callStarted, 0);
            return false;
        }

        overLimit = _meter?.End();
        if (overLimit is not null)
        {
            Fail(CallName(), new DeviceLimitExceededException(overLimit), hung: false, reason: overLimit);
        }

        Volatile.Write(ref _callStarted, 0); // after the limits are checked: IsBetweenCalls then means all of it is done
        return overLimit is null;
    }

    private string CallName() => _callQueue < 0 ? _callOperation : $"{_callOperation}({_callQueue})";

    private void Fail(string operation, Exception exception, bool hung = false, string? reason = null)
    {
        if (Interlocked.Exchange(ref _failing, 1) != 0)
        {
            return;
        }

        _failureReason = reason ?? (hung
            ? $"{operation} hung: no return after {HangLimit.TotalSeconds:0.#} s"
            : $"{operation} threw {exception.GetType().Name}: {exception.Message}");
        _hung = hung;
        _failed = true;
        VirtioDeviceWorkerLog.DeviceFailed(_logger, exception, _device.Id, _device.DeviceType, operation);
        Failed?.Invoke(exception);
    }

    private void ResetOnWorker()
    {
        ClearPending();
        Interlocked.Increment(ref _generation);
        Volatile.Write(ref _directFailure, null);
        Volatile.Write(ref _active, false);
        Volatile.Write(ref _activation, null);
        _meter?.Begin(always: true); // what the reset releases stops counting; what survives it is seen at activation
        try
        {
            _device.Reset();
        }
#pragma warning disable CA1031 // A device that cannot reset is still reset as far as the transport is concerned.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            VirtioDeviceWorkerLog.DeviceResetFailed(_logger, exception, _device.Id, _device.DeviceType);
        }

        _meter?.End();

        _failed = false;
        _failureReason = null;
        _hung = false;
        Volatile.Write(ref _failing, 0);
        _resetRequested = false;
        _resetDone.Set();
    }

    private void ClearPending()
    {
        for (int i = 0; i < _pending.Length; i++)
        {
            Interlocked.Exchange(ref _pending[i], 0);
        }
    }

    private sealed record DirectFailure(Exception Exception, int Generation);
}
