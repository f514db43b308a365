using System.Runtime.ExceptionServices;
using Microsoft.Extensions.Logging;
using Vmm.Contracts.Virtio;
using Vmm.Interop;
using Vmm.Plugins.VirtioFs.Server;

namespace Vmm.Plugins.VirtioFs;

/// <summary>
/// The thread of one virtio-fs request queue. The device worker only wakes it (<see cref="Schedule"/>), so a
/// request that sits in a slow system call holds up neither the hiprio queue (FORGETs, served on the device
/// worker) nor the device's other request queues. The thread is dedicated, so per-thread credentials
/// (supplementary groups dropped once, file-system ids switched around each create) never leak to other work.
/// The queue is touched only here; a request still running when the driver resets the device finishes its host
/// work, but its chain is dropped, never pushed onto the new activation's ring.
/// </summary>
internal sealed class RequestQueueWorker : IDisposable
{
    private static readonly TimeSpan s_joinTimeout = TimeSpan.FromSeconds(5);

    private readonly FuseSession _session;
    private readonly int _queueIndex;
    private readonly Action<long> _answered;
    private readonly ILogger _logger;
    private readonly string _deviceId;
    private readonly bool _dropGroups;
    private readonly Thread _thread;
    private readonly AutoResetEvent _wake = new(false);
    private readonly Lock _sync = new();
    private IVirtioDeviceContext? _context;
    private long _generation;
    private ExceptionDispatchInfo? _failure;
    private int _pending;
    private volatile bool _disposed;

    public RequestQueueWorker(string deviceId, FuseSession session, int queueIndex, bool dropGroups, Action<long> answered, ILogger logger)
    {
        _deviceId = deviceId;
        _session = session;
        _queueIndex = queueIndex;
        _dropGroups = dropGroups;
        _answered = answered;
        _logger = logger;
        _thread = new Thread(Run) { IsBackground = true, Name = $"virtio-fs-{deviceId}-q{queueIndex}" };
        _thread.Start();
    }

    public FuseSession Session => _session;

    /// <summary>Serves the queue of <paramref name="context"/> from now on.</summary>
    public void Attach(IVirtioDeviceContext context)
    {
        lock (_sync)
        {
            _context = context;
            _generation++;
            _failure = null;
        }

        Schedule();
    }

    /// <summary>Stops touching the queue (device reset); a request in flight is dropped when it completes.</summary>
    public void Detach()
    {
        lock (_sync)
        {
            _context = null;
            _generation++;
            _failure = null;
        }
    }

    /// <summary>Wakes the thread to drain the queue. Safe from any thread.</summary>
    public void Schedule()
    {
        Volatile.Write(ref _pending, 1);
        _wake.Set();
    }

    /// <summary>On the device worker: rethrows what broke the queue (a malformed chain), so the device fails as it should.</summary>
    public void ThrowIfFailed()
    {
        ExceptionDispatchInfo? failure;
        lock (_sync)
        {
            failure = _failure;
        }

        failure?.Throw();
    }

    public void Dispose()
    {
        _disposed = true;
        _wake.Set();
        if (Thread.CurrentThread != _thread && !_thread.Join(s_joinTimeout))
        {
            // A request blocked in the host kernel; the background thread ends with the process.
            VirtioFsLog.QueueThreadStuck(_logger, _deviceId, _queueIndex);
            return;
        }

        _wake.Dispose();
    }

    private void Run()
    {
        if (_dropGroups)
        {
            try
            {
                HostCredentials.DropSupplementaryGroupsOfThisThread();
            }
            catch (NativeCallException e)
            {
                VirtioFsLog.CredentialsUnavailable(_logger, _deviceId, e.Message);
            }
        }

        while (true)
        {
            _wake.WaitOne();
            if (_disposed)
            {
                return;
            }

            while (Interlocked.Exchange(ref _pending, 0) != 0 && !_disposed)
            {
                Drain();
            }
        }
    }

    private void Drain()
    {
        IVirtioDeviceContext context;
        IVirtqueue queue;
        long generation;
        lock (_sync)
        {
            if (_context is null || _failure is not null || _queueIndex >= _context.Queues.Count)
            {
                return;
            }

            context = _context;
            generation = _generation;
            queue = context.Queues[_queueIndex];
            if (!queue.IsReady)
            {
                return;
            }
        }

        long answered = 0;
        try
        {
            while (!_disposed)
            {
                DescriptorChain? chain;
                lock (_sync)
                {
                    if (generation != _generation || !queue.TryPop(out chain))
                    {
                        break;
                    }
                }

                uint written = _session.Handle(chain, _queueIndex);
                lock (_sync)
                {
                    if (generation != _generation)
                    {
                        break;
                    }

                    // Each completion is told at once: a later request may block for long.
                    queue.Push(chain, written);
                    queue.NotifyGuest();
                }

                answered++;
            }
        }
#pragma warning disable CA1031 // Handed to the device worker, which fails the device (DEVICE_NEEDS_RESET) as for any device bug.
        catch (Exception e)
#pragma warning restore CA1031
        {
            lock (_sync)
            {
                if (generation == _generation)
                {
                    _failure = ExceptionDispatchInfo.Capture(e);
                }
            }

            context.ScheduleQueue(_queueIndex);
        }
        finally
        {
            if (answered > 0)
            {
                _answered(answered);
            }
        }
    }
}
