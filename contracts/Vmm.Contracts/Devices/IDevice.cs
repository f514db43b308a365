namespace Vmm.Contracts.Devices;

/// <summary>
/// Anything a device factory creates: a virtio device (<see cref="Virtio.IVirtioDevice"/>), a plain PCI device
/// (<see cref="Pci.IPciDevice"/>), a display sink (<see cref="Display.IDisplaySink"/>), or several of these at once.
/// </summary>
public interface IDevice : IDisposable
{
    /// <summary>The id the VM config gave this device; unique within a VM.</summary>
    string Id { get; }
}
