using Vmm.Contracts.Memory;

namespace Vmm.Contracts.Pci;

/// <summary>What an attached PCI device works with.</summary>
public interface IPciDeviceContext
{
    /// <summary>Guest memory, for devices that do DMA.</summary>
    IGuestMemory Memory { get; }

    /// <summary>Raises MSI-X vector <paramref name="vector"/>; a masked vector is left pending.</summary>
    void SignalMsix(int vector);
}
