using Vmm.Contracts.Pci;
using Vmm.Core.Pci;
using Vmm.Testing.InProcess;

namespace Vmm.Testing.Driver;

/// <summary>
/// Enumerates bus 0 the way Linux does with <c>pci=conf1</c>: configuration cycles only through ports
/// 0xCF8/0xCFC, BARs sized by writing all-ones with decoding off and restoring, the capability list walked from
/// 0x34. It keeps what firmware placed, or assigns BARs itself from an allocator.
/// </summary>
public sealed class PciEnumerator(InProcessMachine machine)
{
    private const ushort ConfigAddressPort = 0xCF8;
    private const ushort ConfigDataPort = 0xCFC;

    /// <summary>Reads 1, 2 or 4 bytes of configuration space of 00:<paramref name="device"/>.0.</summary>
    public uint ReadConfig(int device, int offset, int size)
    {
        machine.Out(ConfigAddressPort, 4, Address(device, offset));
        return machine.In((ushort)(ConfigDataPort + (offset & 3)), size);
    }

    /// <summary>Writes 1, 2 or 4 bytes of configuration space of 00:<paramref name="device"/>.0.</summary>
    public void WriteConfig(int device, int offset, int size, uint value)
    {
        machine.Out(ConfigAddressPort, 4, Address(device, offset));
        machine.Out((ushort)(ConfigDataPort + (offset & 3)), size, value);
    }

    /// <summary>
    /// Finds every function on bus 0. With <paramref name="assign"/>, every BAR gets a new address from it
    /// (what Linux does with <c>pci=realloc</c>); otherwise the firmware's placement is kept.
    /// </summary>
    public IReadOnlyList<PciFunctionInfo> Enumerate(PciBarAllocator? assign = null)
    {
        var functions = new List<PciFunctionInfo>();
        for (int device = 0; device < PciRoot.SlotCount; device++)
        {
            uint ids = ReadConfig(device, PciIds.VendorIdOffset, 4);
            if ((ids & 0xFFFF) == 0xFFFF)
            {
                continue;
            }

            uint classRevision = ReadConfig(device, PciIds.RevisionOffset, 4);
            functions.Add(new PciFunctionInfo(
                device,
                (ushort)ids,
                (ushort)(ids >> 16),
                classRevision >> 8,
                (byte)classRevision,
                ProbeBars(device, assign),
                WalkCapabilities(device)));
        }

        return functions;
    }

    /// <summary>Turns on memory and I/O decoding and bus mastering (pci_enable_device + pci_set_master).</summary>
    public void Enable(int device)
    {
        uint command = ReadConfig(device, PciIds.CommandOffset, 2);
        WriteConfig(device, PciIds.CommandOffset, 2, command | PciIds.CommandIoSpace | PciIds.CommandMemorySpace | PciIds.CommandBusMaster);
    }

    private List<PciBarInfo> ProbeBars(int device, PciBarAllocator? assign)
    {
        var bars = new List<PciBarInfo>();
        uint command = ReadConfig(device, PciIds.CommandOffset, 2);
        WriteConfig(device, PciIds.CommandOffset, 2, command & ~(uint)(PciIds.CommandIoSpace | PciIds.CommandMemorySpace));
        for (int index = 0; index < 6; index++)
        {
            int register = PciIds.Bar0Offset + (4 * index);
            uint original = ReadConfig(device, register, 4);
            WriteConfig(device, register, 4, 0xFFFF_FFFF);
            uint sized = ReadConfig(device, register, 4);
            WriteConfig(device, register, 4, original);
            if (sized == 0)
            {
                continue;
            }

            bool io = (sized & 1) != 0;
            bool is64 = !io && (sized & 0x6) == 0x4;
            ulong address = original & (io ? ~0x3u : ~0xFu);
            ulong mask = sized & (io ? ~0x3u : ~0xFu);
            if (is64)
            {
                uint originalHigh = ReadConfig(device, register + 4, 4);
                WriteConfig(device, register + 4, 4, 0xFFFF_FFFF);
                uint sizedHigh = ReadConfig(device, register + 4, 4);
                WriteConfig(device, register + 4, 4, originalHigh);
                address |= (ulong)originalHigh << 32;
                mask |= (ulong)sizedHigh << 32;
            }
            else
            {
                mask |= 0xFFFF_FFFF_0000_0000;
            }

            if (io)
            {
                // I/O BARs decode 16 bits on x86 (Linux's pci_size masks the same way).
                mask |= 0xFFFF_FFFF_FFFF_0000;
            }

            ulong size = ~mask + 1;
            PciBarKind kind = io ? PciBarKind.IO : is64 ? PciBarKind.Memory64 : PciBarKind.Memory32;
            if (assign is not null)
            {
                address = assign.Allocate(kind, size);
                WriteConfig(device, register, 4, (uint)address);
                if (is64)
                {
                    WriteConfig(device, register + 4, 4, (uint)(address >> 32));
                }
            }

            bars.Add(new PciBarInfo(index, address, size, kind, !io && (sized & 0x8) != 0));
            if (is64)
            {
                index++;
            }
        }

        WriteConfig(device, PciIds.CommandOffset, 2, command);
        return bars;
    }

    private List<PciCapabilityInfo> WalkCapabilities(int device)
    {
        var capabilities = new List<PciCapabilityInfo>();
        if ((ReadConfig(device, PciIds.StatusOffset, 2) & PciIds.StatusCapabilityList) == 0)
        {
            return capabilities;
        }

        int pointer = (int)ReadConfig(device, PciIds.CapabilitiesPointerOffset, 1) & ~3;

        // Like Linux's __pci_find_next_cap_ttl: a bounded walk, so a looping list cannot hang us.
        for (int ttl = 48; pointer >= 0x40 && ttl > 0; ttl--)
        {
            uint header = ReadConfig(device, pointer, 2);
            capabilities.Add(new PciCapabilityInfo(pointer, (byte)header));
            pointer = (int)(header >> 8) & ~3;
        }

        return capabilities;
    }

    private static uint Address(int device, int offset) => 0x8000_0000u | ((uint)device << 11) | ((uint)offset & 0xFC);
}
