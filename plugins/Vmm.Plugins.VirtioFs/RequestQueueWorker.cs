using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Vmm.Contracts.Virtio;
using Vmm.Plugins.VirtioFs.Host;
using Vmm.Plugins.VirtioFs.Server;

namespace Vmm.Plugins.VirtioFs;

/// <summary>
/// The thread of one virtio-fs queue (a request queue, or hiprio: the same loop, never polling). The notifier (or the
/// device worker) only wakes it (<see cref="Schedule"/>), so a request that sits in a slow system call holds up
/// neither the hiprio queue (FORGETs) nor the device's other request queues. The thread is dedicated, so per-thread credentials
/// (supplementary groups dropped once, file-system ids switched around each create) and its own umask never leak
/// to other work.
/// The queue is touched only here. A reset (or a vhost-user GET_VRING_BASE) waits for the request in flight to be
/// answered, as it did when requests ran on the device worker, so the ring stops at a request boundary and no
/// popped request is lost.
/// When the ring runs dry the thread busy-polls it for a short, adaptive window (<see cref="RequestPollWindow"/>)
/// with the driver's notifications off, as SPDK's and DPDK's vhost back-ends do: at queue depth 1 the next request
/// then needs no kick, no wake-up of the kick poller and no hand-off to this thread.
/// Where the platform hands over the queue's notifier (<see cref="IVirtioNotifierHandoff"/>, vhost-user's kick
/// eventfd) the thread sleeps on it itself (<see cref="QueueWake"/>): a kick wakes this thread and no other.
/// </summary>
internal sealed class RequestQueueWorker : IDisposable
{
    /// <summary>
    /// An AppContext switch, a testing seam never set by the VMM: with it on, a request queue has no thread and is
    /// drained on the thread that schedules it, before <see cref="Schedule"/> returns (the per-thread umask and
    /// dropped groups are then not applied). The fuzz harness sets it so that one input always takes one path.
    /// </summary>
    internal const string InlineSwitch = "Vmm.Plugins.VirtioFs.InlineRequestQueues";

    private static readonly TimeSpan s_joinTimeout = TimeSpan.FromSeconds(5);

    private readonly FuseSession _session;
    private readonly int _queueIndex;
    private readonly Action<long> _answered;
    private readonly ILogger _logger;
    private readonly string _deviceId;
    private readonly bool _dropGroups;
    private readonly uint _umask;
    private readonly Thread? _thread; // null when inline
    private readonly RequestPollWindow _poll;
    private readonly QueueWake? _wake; // null when inline
    private readonly Lock _requestSync = new();
    private IVirtioDeviceContext? _context;
    private ExceptionDispatchInfo? _failure;
    private SafeHandle? _notifier;
    private int _pending;
    private int _sleeping;
    private volatile bool _disposed;

    public RequestQueueWorker(string deviceId, FuseSession session, int queueIndex, bool dropGroups, uint umask, Action<long> answered, ILogger logger, int pollMicroseconds = 0)
    {
        _umask = umask;
        _deviceId = deviceId;
        _session = session;
        _queueIndex = queueIndex;
        _dropGroups = dropGroups;
        _answered = answered;
        _logger = logger;
        if (AppContext.TryGetSwitch(InlineSwitch, out bool inline) && inline)
        {
            // Never poll on a thread that is not ours.
            _poll = new RequestPollWindow(0);
            return;
        }

        _poll = new RequestPollWindow(pollMicroseconds * Stopwatch.Frequency / 1_000_000);
        _wake = new QueueWake();
        _thread = new Thread(Run) { IsBackground = true, Name = $"virtio-fs-{deviceId}-q{queueIndex}" };
        _thread.Start();
    }

    public FuseSession Session => _session;

    /// <summary>Whether a request broke the queue; the device worker must see it (<see cref="ThrowIfFailed"/>).</summary>
    public bool HasFailed => Volatile.Read(ref _failure) is not null;

    /// <summary>Serves the queue of <paramref name="context"/> from now on.</summary>
    public void Attach(IVirtioDeviceContext context)
    {
        lock (_requestSync)
        {
            _context = context;
            Volatile.Write(ref _failure, null);
        }

        Schedule();
    }

    /// <summary>Stops touching the queue (device reset): waits for the request in flight to be answered.</summary>
    public void Detach()
    {
        lock (_requestSync)
        {
            _context = null;
            Volatile.Write(ref _failure, null);
        }
    }

    /// <summary>Wakes the thread to drain the queue. Safe from any thread.</summary>
    public void Schedule()
    {
        if (_disposed)
        {
            return;
        }

        if (_wake is null)
        {
            Drain();
            return;
        }

        // Full fences on both sides (here and before the thread sleeps): either the thread sees the work before it
        // sleeps, or this sees it asleep and wakes it. A busy thread costs no system call.
        Interlocked.Exchange(ref _pending, 1);
        if (Volatile.Read(ref _sleeping) != 0)
        {
            _wake.Signal();
        }
    }

    /// <summary>
    /// The queue's notifier from now on (null: none, the platform notifies through <see cref="Schedule"/>); the thread
    /// waits on it from its next sleep. False when this queue has no thread to wait on it (inline).
    /// </summary>
    public bool SetNotifier(SafeHandle? notifier)
    {
        if (_wake is null || _disposed)
        {
            return false;
        }

        // The thread may be asleep on the old one: wake it to wait on the new one (and to look at the ring, which
        // may have requests the old notifier no longer announces).
        Volatile.Write(ref _notifier, notifier);
        Interlocked.Exchange(ref _pending, 1);
        _wake.Signal();
        return true;
    }

    /// <summary>On the device worker: rethrows what broke the queue (a malformed chain), so the device fails as it should.</summary>
    public void ThrowIfFailed()
    {
        Volatile.Read(ref _failure)?.Throw();
    }

    public void Dispose()
    {
        _disposed = true;
        Volatile.Write(ref _notifier, null);
        _wake?.Signal();
        if (_thread is not null && Thread.CurrentThread != _thread && !_thread.Join(s_joinTimeout))
        {
            // A request blocked in the host kernel; the background thread ends with the process.
            VirtioFsLog.QueueThreadStuck(_logger, _deviceId, _queueIndex);
            return;
        }

        _wake?.Dispose();
    }

    private void Run()
    {
        // Creates must not be masked by the VMM's own umask: this thread gets one of its own.
        int umaskError = ThreadUmask.Set(_umask);
        if (umaskError != 0)
        {
            VirtioFsLog.UmaskUnavailable(_logger, _deviceId, umaskError);
        }

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

        QueueWake wake = _wake!;
        long slept = -1; // how long the last sleep lasted; -1: the thread has not slept since it last served
        while (!_disposed)
        {
            if (Interlocked.Exchange(ref _pending, 0) != 0)
            {
                long answered = Drain();
                if (slept >= 0 && answered > 0)
                {
                    // Only a wake-up that found work says how fast requests come.
                    _poll.Slept(slept);
                }

                slept = -1;
                continue;
            }

            Interlocked.Exchange(ref _sleeping, 1);
            if (Volatile.Read(ref _pending) == 0 && !_disposed)
            {
                long asleep = Stopwatch.GetTimestamp();
                if (wake.Wait(Volatile.Read(ref _notifier)))
                {
                    Volatile.Write(ref _pending, 1);
                }

                slept = Stopwatch.GetTimestamp() - asleep;
            }

            Volatile.Write(ref _sleeping, 0);
        }
    }

    /// <summary>Serves the queue until it runs dry (and the poll window, if any, ends); returns the requests answered.</summary>
    private long Drain()
    {
        long total = 0;
        long answered = 0;
        IVirtioDeviceContext? context = null;
        IVirtqueue? polled = null; // the queue whose notifications are off while this thread serves or polls it
        long pollEnd = 0;
        var spinner = default(SpinWait);
        try
        {
            while (!_disposed)
            {
                // One request at a time under the lock: pop, answer, push. Attach/Detach wait between requests.
                lock (_requestSync)
                {
                    context = _context;
                    if (context is null || Volatile.Read(ref _failure) is not null || _queueIndex >= context.Queues.Count)
                    {
                        return total;
                    }

                    IVirtqueue queue = context.Queues[_queueIndex];
                    if (!queue.IsReady)
                    {
                        return total;
                    }

                    if (queue.TryPop(out DescriptorChain? chain))
                    {
                        if (polled is null)
                        {
                            // No kicks while the thread is at the ring anyway: each would cost the driver a system
                            // call (a VM exit in a guest) and this thread a wake-up that finds the request served.
                            queue.DisableNotifications();
                            polled = queue;
                        }

                        uint written = _session.Handle(chain, _queueIndex);
                        queue.Push(chain, written);

                        // Each completion is told at once: the next request may take long.
                        queue.NotifyGuest();
                        answered++;
                        total++;
                        pollEnd = 0;
                        spinner.Reset();
                        continue;
                    }

                    if (answered > 0)
                    {
                        _answered(answered);
                        answered = 0;
                    }

                    long now = Stopwatch.GetTimestamp();
                    if (polled is null)
                    {
                        if (_poll.Ticks == 0)
                        {
                            return total;
                        }

                        // The driver need not kick while we look: a kick costs it a system call (a VM exit in a
                        // guest) and us a wake-up.
                        queue.DisableNotifications();
                        polled = queue;
                        pollEnd = now + _poll.Ticks;
                    }
                    else if (pollEnd == 0 && _poll.Ticks > 0)
                    {
                        pollEnd = now + _poll.Ticks;
                    }
                    else if (pollEnd == 0)
                    {
                        // Dry after serving, and no poll: re-arm the kicks and look once more before sleeping.
                        polled = null;
                        if (queue.EnableNotifications())
                        {
                            continue;
                        }

                        return total;
                    }
                    else if (now >= pollEnd)
                    {
                        polled = null;
                        if (queue.EnableNotifications())
                        {
                            // A request came between the last look and the re-arm, with no kick: serve it.
                            continue;
                        }

                        return total;
                    }
                }

                // Spins, then yields: on a busy host the driver's thread may need this CPU to post the next request.
                spinner.SpinOnce(sleep1Threshold: -1);
            }
        }
#pragma warning disable CA1031 // Handed to the device worker, which fails the device (DEVICE_NEEDS_RESET) as for any device bug.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Volatile.Write(ref _failure, ExceptionDispatchInfo.Capture(e));
            context?.ScheduleQueue(_queueIndex);
            return total;
        }
        finally
        {
            if (answered > 0)
            {
                _answered(answered);
            }

            if (polled is not null)
            {
                RearmAfterPoll(context, polled);
            }
        }

        return total;
    }

    /// <summary>Left while polling (dispose, detach, a failure): the driver must kick again if the queue is still ours.</summary>
    private void RearmAfterPoll(IVirtioDeviceContext? context, IVirtqueue queue)
    {
        lock (_requestSync)
        {
            if (context is not null && ReferenceEquals(_context, context) && queue.IsReady && queue.EnableNotifications() && !_disposed)
            {
                // Requests arrived without a kick: have them served on the next pass (on this thread: polling
                // never runs inline).
                Volatile.Write(ref _pending, 1);
            }
        }
    }
}
