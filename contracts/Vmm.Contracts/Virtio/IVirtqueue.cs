using System.Diagnostics.CodeAnalysis;

namespace Vmm.Contracts.Virtio;

/// <summary>
/// The device side of one virtqueue. It is not thread-safe: use it from one thread at a time, normally the device's
/// worker (inside <see cref="IVirtioDevice.ProcessQueue"/>). A device may hand a queue to a thread of its own; that
/// thread then owns the queue alone until the device is reset, and the device's <see cref="IVirtioDevice.Reset"/>
/// waits for it to put the queue down.
/// </summary>
public interface IVirtqueue
{
    /// <summary>The queue's index within its device.</summary>
    int Index { get; }

    /// <summary>The queue size the driver chose.</summary>
    ushort Size { get; }

    /// <summary>Whether the driver enabled the queue.</summary>
    bool IsReady { get; }

    /// <summary>
    /// Takes the next available request. Returns false when none is pending. A malformed chain (a loop, an
    /// address outside guest memory, a nested indirect table, ...) throws <see cref="VirtioProtocolException"/>,
    /// which puts the device in DEVICE_NEEDS_RESET when it reaches the worker.
    /// </summary>
    bool TryPop([NotNullWhen(true)] out DescriptorChain? chain);

    /// <summary>Returns a request to the driver with the number of bytes written into its writable buffers.</summary>
    void Push(DescriptorChain chain, uint bytesWritten);

    /// <summary>Interrupts the driver if it asked to be told about pushed requests (EVENT_IDX or the NO_INTERRUPT flag).</summary>
    void NotifyGuest();

    /// <summary>Asks the driver not to notify the device for new requests (the device is polling).</summary>
    void DisableNotifications();

    /// <summary>
    /// Asks the driver to notify the device again. Returns true when requests arrived while notifications were
    /// off, so the caller must poll once more before sleeping.
    /// </summary>
    bool EnableNotifications();
}
