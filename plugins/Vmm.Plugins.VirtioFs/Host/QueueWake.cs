using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Tmds.Linux;

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
        int fd = LibC.eventfd(0, LibC.EFD_CLOEXEC | LibC.EFD_NONBLOCK);
        if (fd < 0)
        {
            throw new NativeCallException("eventfd", LibC.errno);
        }

        _own = new SafeFileHandle(fd, ownsHandle: true);
    }

    /// <summary>Wakes the thread in <see cref="Wait"/> (or makes its next wait return at once). Safe from any thread.</summary>
    public unsafe void Signal()
    {
        ulong one = 1;
        try
        {
            // Only fails at a counter of 2^64 - 2 (EAGAIN): the thread is already due to wake.
            _ = Counter(_own, &one, write: true);
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
                pollfd* fds = stackalloc pollfd[2];
                fds[0] = new pollfd { fd = (int)_own.DangerousGetHandle(), events = LibC.POLLIN };
                fds[1] = new pollfd { fd = held ? (int)notifier!.DangerousGetHandle() : -1, events = LibC.POLLIN };
                while (LibC.poll(fds, 2, -1) < 0)
                {
                    // Only EINTR can happen with two valid descriptors; anything else is a spurious wake-up, never
                    // an exception that would end the thread.
                    if (LibC.errno != LibC.EINTR)
                    {
                        return false;
                    }
                }

                ulong value;
                if (fds[0].revents != 0)
                {
                    _ = Counter(_own, &value, write: false);
                }

                // Non-blocking: a counter another reader cleared first reads EAGAIN, still a notification to look at.
                if (held && fds[1].revents != 0)
                {
                    _ = Counter(notifier!, &value, write: false);
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

    // An eventfd's 8-byte counter: a write adds to it, a read takes it (and clears it); -1 with EAGAIN when a
    // non-blocking read finds 0.
    private static unsafe long Counter(SafeHandle fd, ulong* value, bool write)
    {
        bool added = false;
        fd.DangerousAddRef(ref added);
        try
        {
            int raw = (int)fd.DangerousGetHandle();
            return write ? LibC.write(raw, value, sizeof(ulong)) : LibC.read(raw, value, sizeof(ulong));
        }
        finally
        {
            if (added)
            {
                fd.DangerousRelease();
            }
        }
    }
}
