using Microsoft.Win32.SafeHandles;
using Vmm.Core.Interrupts;
using Vmm.Interop;

namespace Vmm.VhostUser.Backend;

/// <summary>
/// A queue's interrupt on vhost-user: the call eventfd the front-end gave with SET_VRING_CALL. The front-end may
/// replace it at any time; without one (polling mode) a signal goes nowhere.
/// </summary>
internal sealed class VringCallLine : IInterruptLine, IDisposable
{
    private SafeFileHandle? _eventFd;

    /// <summary>Installs a new call eventfd (or none) and closes the old one.</summary>
    public void Replace(SafeFileHandle? eventFd) => Interlocked.Exchange(ref _eventFd, eventFd)?.Dispose();

    /// <inheritdoc/>
    public void Signal()
    {
        SafeFileHandle? eventFd = Volatile.Read(ref _eventFd);
        if (eventFd is null)
        {
            return;
        }

        try
        {
            HostEventFd.Signal(eventFd);
        }
        catch (ObjectDisposedException)
        {
            // Replaced while signalling: the front-end stopped listening on the old one.
        }
    }

    /// <inheritdoc/>
    public void Dispose() => Replace(null);
}
