using Microsoft.Win32.SafeHandles;
using Vmm.Contracts.Virtio;
using Vmm.Interop;
using Vmm.Testing.Virtio;

namespace Vmm.Testing.VhostUser;

/// <summary>One ring the test front-end set up: the driver side of the queue plus its kick and call eventfds.</summary>
public sealed class VhostUserFrontendQueue : IDisposable
{
    private readonly SafeFileHandle _kick;
    private readonly SafeFileHandle _call;
    private readonly SafeFileHandle _error;

    internal VhostUserFrontendQueue(int index, DriverVirtqueue driver, SafeFileHandle kick, SafeFileHandle call, SafeFileHandle error)
    {
        _error = error;
        Index = index;
        Driver = driver;
        _kick = kick;
        _call = call;
    }

    /// <summary>The queue index.</summary>
    public int Index { get; }

    /// <summary>The driver side of the ring: add requests, take used ones.</summary>
    public DriverVirtqueue Driver { get; }

    internal SafeFileHandle KickHandle => _kick;

    internal SafeFileHandle CallHandle => _call;

    internal SafeFileHandle ErrorHandle => _error;

    /// <summary>Waits until the back-end signals the ring's error eventfd (its device failed). False on timeout.</summary>
    public bool WaitForError(TimeSpan timeout)
    {
        ReadOnlySpan<System.Runtime.InteropServices.SafeHandle> error = [_error];
        return UnixSocketMessaging.WaitAny(error, (int)timeout.TotalMilliseconds) != 0 && HostEventFd.TryRead(_error, out _);
    }

    /// <summary>Adds a request and kicks the back-end when the ring says it wants to be told.</summary>
    public ushort Post(ReadOnlySpan<GuestBuffer> readable, ReadOnlySpan<GuestBuffer> writable)
    {
        ushort head = Driver.Add(readable, writable);
        if (Driver.KickNeeded())
        {
            Kick();
        }

        return head;
    }

    /// <summary>Signals the kick eventfd.</summary>
    public void Kick() => HostEventFd.Signal(_kick);

    /// <summary>
    /// Waits until the back-end returns a request (watching the call eventfd) or <paramref name="timeout"/> passes.
    /// Returns false on timeout.
    /// </summary>
    public bool WaitForUsed(TimeSpan timeout, out ushort head, out uint length)
    {
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (true)
        {
            if (Driver.TryGetUsed(out head, out length))
            {
                return true;
            }

            long left = deadline - Environment.TickCount64;
            if (left <= 0)
            {
                return false;
            }

            ReadOnlySpan<System.Runtime.InteropServices.SafeHandle> call = [_call];
            if (UnixSocketMessaging.WaitAny(call, (int)Math.Min(left, 100)) != 0)
            {
                HostEventFd.TryRead(_call, out _);
            }
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _kick.Dispose();
        _call.Dispose();
        _error.Dispose();
    }
}
