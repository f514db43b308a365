using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Vmm.Plugins.VirtioFs.Host;

/// <summary>
/// What a request queue's thread sleeps on: an eventfd of its own (work scheduled, a new notifier, dispose) and, once
/// the platform handed it over, the queue's notifier eventfd (the driver's kick), both in one <c>poll</c>, as the C
/// virtiofsd's queue thread waits on its kick. A kick then wakes the thread that serves it and nothing else.
/// </summary>
internal sealed class QueueWake : IDisposable
{
    private readonly SafeFileHandle _own;

    public QueueWake()
    {
        _own = Interop.EventFd(0, Interop.EFD_CLOEXEC | Interop.EFD_NONBLOCK);
        if (_own.IsInvalid)
        {
            int errno = Marshal.GetLastPInvokeError();
            _own.Dispose();
            throw new NativeCallException("eventfd", errno);
        }
    }

    /// <summary>Wakes the thread in <see cref="Wait"/> (or makes its next wait return at once). Safe from any thread.</summary>
    public unsafe void Signal()
    {
        ulong one = 1;
        try
        {
            // Only fails at a counter of 2^64 - 2 (EAGAIN): the thread is already due to wake.
            _ = Interop.WriteCounter(_own, &one, sizeof(ulong));
        }
        catch (ObjectDisposedException)
        {
            // The worker is gone.
        }
    }

    /// <summary>
    /// Blocks until <see cref="Signal"/> or a notification on <paramref name="notifier"/> (if any), then clears what
    /// fired. Returns whether the notifier fired. A notifier the platform has disposed meanwhile is not waited on.
    /// </summary>
    public unsafe bool Wait(SafeHandle? notifier)
    {
        bool held = false;
        try
        {
            if (notifier is not null)
            {
                try
                {
                    notifier.DangerousAddRef(ref held);
                }
                catch (ObjectDisposedException)
                {
                    // Replaced or taken back: the platform wakes us (Signal) with the next one.
                }
            }

            bool ownHeld = false;
            _own.DangerousAddRef(ref ownHeld);
            try
            {
                Interop.PollFd* fds = stackalloc Interop.PollFd[2];
                fds[0] = new Interop.PollFd { Fd = (int)_own.DangerousGetHandle(), Events = Interop.POLLIN };
                fds[1] = new Interop.PollFd { Fd = held ? (int)notifier!.DangerousGetHandle() : -1, Events = Interop.POLLIN };
                while (Interop.Poll(fds, 2, -1) < 0)
                {
                    // Only EINTR can happen with two valid descriptors; anything else is a spurious wake-up, never
                    // an exception that would end the thread.
                    if (Marshal.GetLastPInvokeError() != Errno.EINTR)
                    {
                        return false;
                    }
                }

                ulong value;
                if (fds[0].Revents != 0)
                {
                    _ = Interop.ReadCounter(_own, &value, sizeof(ulong));
                }

                // Non-blocking: a counter another reader cleared first reads EAGAIN, still a notification to look at.
                if (held && fds[1].Revents != 0)
                {
                    _ = Interop.ReadCounter(notifier!, &value, sizeof(ulong));
                    return true;
                }

                return false;
            }
            finally
            {
                if (ownHeld)
                {
                    _own.DangerousRelease();
                }
            }
        }
        finally
        {
            if (held)
            {
                notifier!.DangerousRelease();
            }
        }
    }

    public void Dispose() => _own.Dispose();
}
