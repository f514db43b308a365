namespace Vmm.Core.Interrupts;

/// <summary>
/// Where a virtqueue sends "used buffers ready": an MSI-X vector on virtio-pci, a call eventfd on vhost-user, a
/// callback in-process. Safe from any thread; allocates nothing.
/// </summary>
public interface IInterruptLine
{
    /// <summary>Raises the interrupt.</summary>
    void Signal();
}
