using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Vmm.Interop;

namespace Vmm.Kvm.Platform;

/// <summary>
/// One thread polling every queue-notify eventfd of a VM (the fds KVM signals for ioeventfds on the doorbells) and
/// handing each signal to its queue's worker. The set of fds is fixed once started; only their KVM registrations
/// move with the BARs.
/// </summary>
internal sealed class VirtioNotifyLoop : IDisposable
{
    private readonly List<(SafeFileHandle EventFd, Action OnSignal)> _sources = [];
    private readonly SafeFileHandle _wake = HostEventFd.Create(nonBlocking: true);
    private Thread? _thread;
    private volatile bool _stopping;
    private long _signals;

    /// <summary>Creates an eventfd whose signals run <paramref name="onSignal"/> on the loop thread. Before <see cref="Start"/>.</summary>
    public SafeFileHandle Add(Action onSignal)
    {
        if (_thread is not null)
        {
            throw new InvalidOperationException("Notify sources are added before the loop starts.");
        }

        SafeFileHandle eventFd = HostEventFd.Create(nonBlocking: true);
        _sources.Add((eventFd, onSignal));
        return eventFd;
    }

    /// <summary>How many doorbell signals the loop has handed on (KVM ioeventfds, not vCPU exits).</summary>
    public long SignalCount => Interlocked.Read(ref _signals);

    /// <summary>Starts the thread (only when there is something to poll).</summary>
    public void Start()
    {
        if (_sources.Count == 0)
        {
            return;
        }

        _thread = new Thread(Run) { IsBackground = true, Name = "virtio-notify" };
        _thread.Start();
    }

    /// <summary>Stops the thread and closes the eventfds.</summary>
    public void Dispose()
    {
        _stopping = true;
        if (_thread is not null)
        {
            HostEventFd.Signal(_wake);
            _thread.Join();
        }

        foreach ((SafeFileHandle eventFd, _) in _sources)
        {
            eventFd.Dispose();
        }

        _wake.Dispose();
    }

    private unsafe void Run()
    {
        int count = _sources.Count + 1;
        global::Interop.PollDescriptor[] descriptors = new global::Interop.PollDescriptor[count];
        bool[] added = new bool[count];
        try
        {
            _wake.DangerousAddRef(ref added[0]);
            descriptors[0] = new global::Interop.PollDescriptor { fd = (int)_wake.DangerousGetHandle(), events = global::Interop.PollEvents.POLLIN };
            for (int i = 1; i < count; i++)
            {
                SafeFileHandle eventFd = _sources[i - 1].EventFd;
                eventFd.DangerousAddRef(ref added[i]);
                descriptors[i] = new global::Interop.PollDescriptor { fd = (int)eventFd.DangerousGetHandle(), events = global::Interop.PollEvents.POLLIN };
            }

            fixed (global::Interop.PollDescriptor* polled = descriptors)
            {
                while (!_stopping)
                {
                    if (global::Interop.Poll(polled, (nuint)count, -1) < 0)
                    {
                        int errno = Marshal.GetLastPInvokeError();
                        if (errno == global::Interop.Errno.EINTR)
                        {
                            continue;
                        }

                        global::Interop.ThrowForErrno(errno, "poll(virtio notify eventfds)");
                    }

                    for (int i = 1; i < count; i++)
                    {
                        if ((polled[i].revents & global::Interop.PollEvents.POLLIN) != 0 && HostEventFd.TryRead(_sources[i - 1].EventFd, out _))
                        {
                            Interlocked.Increment(ref _signals);
                            _sources[i - 1].OnSignal();
                        }
                    }
                }
            }
        }
        finally
        {
            if (added[0])
            {
                _wake.DangerousRelease();
            }

            for (int i = 1; i < count; i++)
            {
                if (added[i])
                {
                    _sources[i - 1].EventFd.DangerousRelease();
                }
            }
        }
    }
}
