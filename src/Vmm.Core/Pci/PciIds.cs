namespace Vmm.Core.Pci;

/// <summary>Configuration-space register offsets and bits (PCI Local Bus 3.0, type-0 header).</summary>
public static class PciIds
{
    /// <summary>Vendor id register.</summary>
    public const int VendorIdOffset = 0x00;

    /// <summary>Device id register.</summary>
    public const int DeviceIdOffset = 0x02;

    /// <summary>Command register.</summary>
    public const int CommandOffset = 0x04;

    /// <summary>Status register.</summary>
    public const int StatusOffset = 0x06;

    /// <summary>Revision id register.</summary>
    public const int RevisionOffset = 0x08;

    /// <summary>Programming interface, subclass, class code (0x09..0x0B).</summary>
    public const int ClassOffset = 0x09;

    /// <summary>Header type register.</summary>
    public const int HeaderTypeOffset = 0x0E;

    /// <summary>BAR0; BARn is at <c>0x10 + 4n</c>.</summary>
    public const int Bar0Offset = 0x10;

    /// <summary>Subsystem vendor id register.</summary>
    public const int SubsystemVendorIdOffset = 0x2C;

    /// <summary>Subsystem id register.</summary>
    public const int SubsystemIdOffset = 0x2E;

    /// <summary>Capabilities pointer.</summary>
    public const int CapabilitiesPointerOffset = 0x34;

    /// <summary>Interrupt line register.</summary>
    public const int InterruptLineOffset = 0x3C;

    /// <summary>Interrupt pin register.</summary>
    public const int InterruptPinOffset = 0x3D;

    /// <summary>COMMAND bit 0: decode I/O BARs.</summary>
    public const ushort CommandIoSpace = 1 << 0;

    /// <summary>COMMAND bit 1: decode memory BARs.</summary>
    public const ushort CommandMemorySpace = 1 << 1;

    /// <summary>COMMAND bit 2: the function may master the bus (DMA, MSI).</summary>
    public const ushort CommandBusMaster = 1 << 2;

    /// <summary>COMMAND bit 10: INTx disabled.</summary>
    public const ushort CommandInterruptDisable = 1 << 10;

    /// <summary>STATUS bit 4: a capability list is present.</summary>
    public const ushort StatusCapabilityList = 1 << 4;

    /// <summary>Vendor-specific capability id.</summary>
    public const byte CapabilityVendorSpecific = 0x09;

    /// <summary>MSI-X capability id.</summary>
    public const byte CapabilityMsix = 0x11;

    /// <summary>The size of the configuration space reachable through mechanism #1.</summary>
    public const int ConfigSpaceSize = 256;

    /// <summary>The size of one function's ECAM configuration space.</summary>
    public const int ExtendedConfigSpaceSize = 4096;
}
