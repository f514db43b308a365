namespace Vmm.Contracts.Pci;

/// <summary>The identity fields of a type-0 PCI configuration header.</summary>
public readonly record struct PciDeviceIdentity(
    ushort VendorId,
    ushort DeviceId,
    byte ClassCode,
    byte Subclass,
    byte ProgrammingInterface,
    byte Revision,
    ushort SubsystemVendorId,
    ushort SubsystemId);
