using System.Runtime.InteropServices;

namespace Vmm.Contracts.Virtio;

/// <summary>
/// Optional on an <see cref="IVirtioDevice"/> whose queues have threads of their own (contract 2.2). A platform whose
/// driver notifications arrive on one eventfd per queue (vhost-user's kick) may hand a queue's eventfd to the device;
/// the queue's thread then waits on it itself, so a notification wakes the thread that serves it: one wake-up per
/// request, as in the C virtiofsd, instead of the platform's notifier thread waking and handing over
/// (<see cref="IVirtioDirectNotification"/>).
/// </summary>
/// <remarks>
/// Called on the platform's control thread, concurrently with the device's threads; neither call blocks. The device
/// holds a reference (<see cref="SafeHandle.DangerousAddRef"/>) while it waits on or reads a notifier, so the platform
/// may dispose one it has replaced or taken back; until the device's thread next wakes it may still consume a
/// notification from it and serve the queue, which is harmless. The platform still delivers what it learns by other
/// means (a ring started, a kick it read itself) through <see cref="IVirtioDirectNotification"/> or
/// <see cref="IVirtioDevice.ProcessQueue"/>.
/// </remarks>
public interface IVirtioNotifierHandoff
{
    /// <summary>
    /// Offers <paramref name="notifier"/>, the non-blocking eventfd the driver's notifications of
    /// <paramref name="queueIndex"/> arrive on from now on (reading its 8-byte counter clears it), replacing any given
    /// before. True: the device waits on it, and the platform must not watch or read it. False: the platform goes on
    /// notifying as usual (a queue without a thread of its own); any notifier given before is dropped.
    /// </summary>
    bool TryTakeNotifier(int queueIndex, SafeHandle notifier);

    /// <summary>Takes back the notifier of <paramref name="queueIndex"/> (the ring stopped or lost its eventfd); a queue without one is left as it is.</summary>
    void ReleaseNotifier(int queueIndex);
}
