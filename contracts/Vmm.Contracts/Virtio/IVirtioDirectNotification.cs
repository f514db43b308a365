namespace Vmm.Contracts.Virtio;

/// <summary>
/// Optional on an <see cref="IVirtioDevice"/> that serves some queues on threads of its own (contract 1.2). The host
/// then hands a guest notification of such a queue straight to the device on the thread that saw it (an ioeventfd
/// poller, the vhost-user kick poller), instead of waking the device's worker only for the device to wake its
/// queue thread: one thread hand-off less per request, which is what a latency-bound queue pays for.
/// </summary>
/// <remarks>
/// Called from any thread while the device is activated and healthy, concurrently with the device's worker; a call
/// may also race a reset or a failure, and must then be harmless (a woken thread finds no queue to serve). It must
/// not block and must not touch the queue: it only wakes the thread that owns it. A queue the device asks to be
/// served with <see cref="IVirtioDeviceContext.ScheduleQueue"/> still goes to <see cref="IVirtioDevice.ProcessQueue"/>.
/// </remarks>
public interface IVirtioDirectNotification
{
    /// <summary>
    /// Wakes the thread serving <paramref name="queueIndex"/>. Returns false to have the notification delivered as
    /// usual, through <see cref="IVirtioDevice.ProcessQueue"/> on the worker (a queue without a thread of its own,
    /// or one whose thread failed and must fail the device there).
    /// </summary>
    bool TryNotifyDirectly(int queueIndex);
}
