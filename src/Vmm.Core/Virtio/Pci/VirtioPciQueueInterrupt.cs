using Vmm.Core.Interrupts;

namespace Vmm.Core.Virtio.Pci;

/// <summary>A queue's interrupt: ISR bit 0 and the queue's MSI-X vector.</summary>
internal sealed class VirtioPciQueueInterrupt(VirtioPciTransport transport, int queueIndex) : IInterruptLine
{
    public void Signal() => transport.SignalQueue(queueIndex);
}
