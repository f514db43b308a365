namespace Vmm.Core.Interrupts;

/// <summary>
/// One MSI delivery path from the VMM to the guest, as a platform provides it: a KVM GSI route plus an irqfd, a
/// KVM_SIGNAL_MSI, or a callback for the in-process driver. The MSI-X table decides when to signal (masking,
/// pending bits); the vector only delivers.
/// </summary>
public interface IMsiVector : IDisposable
{
    /// <summary>The guest programmed the table entry: the message to send from now on.</summary>
    void Configure(ulong address, uint data);

    /// <summary>Sends the configured message. Safe from any thread; allocates nothing.</summary>
    void Signal();
}
