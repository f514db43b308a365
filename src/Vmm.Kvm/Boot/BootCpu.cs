using Vmm.Contracts.Memory;
using Vmm.Kvm.Payloads;
using static Interop.Kvm;

namespace Vmm.Kvm.Boot;

/// <summary>
/// Sets the boot vCPU's registers from the host for a <see cref="BootEntry"/>: long mode with a 4 GiB identity map
/// for the Linux 64-bit protocol, flat 32-bit protected mode for PVH, the <see cref="LongModeGuest"/> ring-3 entry
/// for payloads. Other vCPUs wait for INIT/SIPI.
/// </summary>
public static class BootCpu
{
    private const ushort CodeSelector = 0x08;
    private const ushort DataSelector = 0x10;
    private const ushort TssSelector = 0x18;

    /// <summary>Puts <paramref name="vcpu"/> at <paramref name="entry"/>.</summary>
    public static void Configure(KvmVcpu vcpu, IGuestMemory memory, BootEntry entry)
    {
        ArgumentNullException.ThrowIfNull(vcpu);
        ArgumentNullException.ThrowIfNull(memory);
        ArgumentNullException.ThrowIfNull(entry);
        switch (entry.Mode)
        {
            case BootEntryMode.Ring3:
                LongModeGuest.EnterUserMode(vcpu, memory, entry.EntryPoint, interruptsEnabled: true);
                break;
            case BootEntryMode.Linux64:
                WriteGdt(memory, long64: true);
                IdentityPageTables.Write(memory, user: false);
                SetSegments(vcpu, long64: true);
                vcpu.SetDefaultFpu();
                vcpu.SetRegisters(new kvm_regs { rip = entry.EntryPoint, rsi = entry.BootInfoAddress, rsp = BootLayout.BootStackPointer, rbp = BootLayout.BootStackPointer, rflags = 0x2 });
                break;
            case BootEntryMode.Pvh32:
                WriteGdt(memory, long64: false);
                SetSegments(vcpu, long64: false);
                vcpu.SetDefaultFpu();
                vcpu.SetRegisters(new kvm_regs { rip = entry.EntryPoint, rbx = entry.BootInfoAddress, rsp = BootLayout.BootStackPointer, rflags = 0x2 });
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(entry), entry.Mode, "Unknown boot entry mode.");
        }
    }

    private static void WriteGdt(IGuestMemory memory, bool long64)
    {
        memory.WriteUInt64(BootLayout.GdtAddress, 0);
        memory.WriteUInt64(BootLayout.GdtAddress + 8, long64 ? 0x00AF_9B00_0000_FFFFul : 0x00CF_9B00_0000_FFFFul);
        memory.WriteUInt64(BootLayout.GdtAddress + 16, 0x00CF_9300_0000_FFFFul);
        memory.WriteUInt64(BootLayout.GdtAddress + 24, 0x008F_8B00_0000_FFFFul);
        memory.WriteUInt64(BootLayout.IdtAddress, 0);
    }

    private static void SetSegments(KvmVcpu vcpu, bool long64)
    {
        kvm_sregs sregs = vcpu.GetSpecialRegisters();
        sregs.cs = Segment(CodeSelector, 0xB, long64 ? (byte)0 : (byte)1, long64 ? (byte)1 : (byte)0);
        kvm_segment data = Segment(DataSelector, 0x3, 1, 0);
        sregs.ds = data;
        sregs.es = data;
        sregs.fs = data;
        sregs.gs = data;
        sregs.ss = data;
        sregs.tr = new kvm_segment { @base = 0, limit = 0xFFFFF, selector = TssSelector, type = 0xB, present = 1 };
        sregs.gdt = new kvm_dtable { @base = BootLayout.GdtAddress, limit = 31 };
        sregs.idt = new kvm_dtable { @base = BootLayout.IdtAddress, limit = 7 };
        if (long64)
        {
            sregs.cr3 = BootLayout.Pml4Address;
            sregs.cr4 = 0x20; // PAE
            sregs.efer = 0x500; // LME | LMA
            sregs.cr0 = 0x8000_0011; // PG | ET | PE
        }
        else
        {
            sregs.cr3 = 0;
            sregs.cr4 = 0;
            sregs.efer = 0;
            sregs.cr0 = 0x11; // ET | PE
        }

        vcpu.SetSpecialRegisters(sregs);
    }

    private static kvm_segment Segment(ushort selector, byte type, byte db, byte l) => new()
    {
        @base = 0,
        limit = 0xFFFF_FFFF,
        selector = selector,
        type = type,
        present = 1,
        db = db,
        s = 1,
        l = l,
        g = 1,
    };
}
