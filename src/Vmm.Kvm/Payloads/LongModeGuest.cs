using Vmm.Contracts.Memory;
using Vmm.Kvm.Cpu;
using static Interop.Kvm;

namespace Vmm.Kvm.Payloads;

/// <summary>
/// Puts a vCPU straight into 64-bit long mode from the host, for small payloads: identity-mapped 2 MiB pages
/// (first 4 GiB, user-accessible), a GDT with ring-0 and ring-3 code/data, a 64-bit TSS whose all-zero I/O bitmap
/// gives ring 3 every port, and an IDT whose handlers report the vector on <see cref="GuestExceptionPort"/>.
/// </summary>
/// <remarks>
/// Ring 3 is entered through one ring-0 <c>iretq</c>: on hosts that emulate guest ring 0 (PVM) that is the only
/// ring-0 instruction a payload executes. IOPL cannot be used there, hence the I/O bitmap.
/// </remarks>
public static class LongModeGuest
{
    /// <summary>Guest RAM the layout needs from address 0.</summary>
    public const ulong MinimumMemorySize = 0x40_0000;

    /// <summary>Where payload code is loaded (1 MiB).</summary>
    public const ulong PayloadAddress = 0x10_0000;

    /// <summary>The ring-3 stack top.</summary>
    public const ulong UserStackTop = 0x30_0000;

    internal const ulong GdtAddress = 0x1000;
    internal const ulong IdtAddress = 0x2000;
    internal const ulong HandlerAddress = 0x3000;
    internal const ulong TssAddress = 0x4000;
    internal const ulong IretqStubAddress = 0x6100;
    internal const ulong KernelStackTop = 0x8000;
    internal const ulong Pml4Address = 0x9000;
    internal const ulong PdptAddress = 0xA000;
    internal const ulong PdAddress = 0xB000;

    internal const ushort KernelCodeSelector = 0x08;
    internal const ushort KernelDataSelector = 0x10;
    internal const ushort UserDataSelector = 0x18 | 3;
    internal const ushort UserCodeSelector = 0x20 | 3;
    internal const ushort TssSelector = 0x28;

    private const uint TssLimit = 0x2068; // 104-byte TSS + 8 KiB bitmap + the terminating 0xFF byte
    private const int HandlerStride = 16;
    private const ulong Cr0ProtectedMode = 1;
    private const ulong Cr0MonitorCoprocessor = 1 << 1;
    private const ulong Cr0ExtensionType = 1 << 4;
    private const ulong Cr0NumericError = 1 << 5;
    private const ulong Cr0WriteProtect = 1 << 16;
    private const ulong Cr0Paging = 1ul << 31;
    private const ulong Cr4Pae = 1 << 5;
    private const ulong Cr4OsFxsr = 1 << 9;
    private const ulong Cr4OsXmmExcept = 1 << 10;
    private const ulong EferLme = 1 << 8;
    private const ulong EferLma = 1 << 10;

    /// <summary>Writes page tables, GDT, IDT with its handlers, TSS and the ring-3 entry stub into guest memory.</summary>
    public static void WriteSystemTables(IGuestMemory memory)
    {
        ArgumentNullException.ThrowIfNull(memory);
        if (!memory.IsValidRange(0, MinimumMemorySize))
        {
            throw new ArgumentException($"The long-mode layout needs guest RAM at [0, 0x{MinimumMemorySize:x}).", nameof(memory));
        }

        // Identity map of the first 4 GiB in 2 MiB pages: present, writable, user (MMIO BARs in the 32-bit hole included).
        Boot.IdentityPageTables.Write(memory, user: true);

        memory.WriteUInt64(GdtAddress + 0x00, 0);
        memory.WriteUInt64(GdtAddress + 0x08, 0x00AF_9B00_0000_FFFF); // ring-0 64-bit code
        memory.WriteUInt64(GdtAddress + 0x10, 0x00CF_9300_0000_FFFF); // ring-0 data
        memory.WriteUInt64(GdtAddress + 0x18, 0x00CF_F300_0000_FFFF); // ring-3 data
        memory.WriteUInt64(GdtAddress + 0x20, 0x00AF_FB00_0000_FFFF); // ring-3 64-bit code
        memory.WriteUInt64(GdtAddress + 0x28, (TssLimit & 0xFFFF) | ((TssAddress & 0xFF_FFFF) << 16) | (0x8Bul << 40) | ((TssAddress >> 24) << 56));
        memory.WriteUInt64(GdtAddress + 0x30, TssAddress >> 32);

        // TSS: RSP0 for interrupts from ring 3, I/O bitmap right after the 104-byte header, all ports allowed.
        memory.Write(TssAddress, new byte[(int)TssLimit + 1]);
        memory.WriteUInt64(TssAddress + 4, KernelStackTop);
        memory.WriteUInt16(TssAddress + 0x66, 0x68);
        memory.WriteByte(TssAddress + TssLimit, 0xFF);

        // Each vector's handler: mov al, vector; mov dx, port; out dx, al; hlt; jmp $-1.
        Span<byte> handler = stackalloc byte[HandlerStride];
        for (int vector = 0; vector < 256; vector++)
        {
            ulong address = HandlerAddress + (ulong)(vector * HandlerStride);
            handler.Clear();
            handler[0] = 0xB0;
            handler[1] = (byte)vector;
            handler[2] = 0x66;
            handler[3] = 0xBA;
            handler[4] = GuestExceptionPort.DefaultPort & 0xFF;
            handler[5] = GuestExceptionPort.DefaultPort >> 8;
            handler[6] = 0xEE;
            handler[7] = 0xF4;
            handler[8] = 0xEB;
            handler[9] = 0xFD;
            memory.Write(address, handler);

            // 64-bit interrupt gate, DPL 0, present.
            ulong gateLow = (address & 0xFFFF) | ((ulong)KernelCodeSelector << 16) | (0x8Eul << 40) | (((address >> 16) & 0xFFFF) << 48);
            memory.WriteUInt64(IdtAddress + (ulong)(vector * 16), gateLow);
            memory.WriteUInt64(IdtAddress + (ulong)(vector * 16) + 8, address >> 32);
        }

        memory.WriteByte(IretqStubAddress, 0x48); // iretq (REX.W + CF)
        memory.WriteByte(IretqStubAddress + 1, 0xCF);
    }

    /// <summary>
    /// Sets <paramref name="vcpu"/> to enter ring 3 at <paramref name="entry"/> with the stack at
    /// <paramref name="stack"/>: long mode at ring 0 on the <c>iretq</c> stub, with the iretq frame on the kernel stack.
    /// </summary>
    /// <param name="vcpu">The vCPU.</param>
    /// <param name="memory">Guest memory holding the layout.</param>
    /// <param name="entry">The ring-3 entry point.</param>
    /// <param name="stack">The ring-3 stack pointer.</param>
    /// <param name="interruptsEnabled">
    /// Whether ring 3 runs with RFLAGS.IF set; interrupts then reach the IDT handlers, which report the vector. The
    /// LAPIC is software-enabled from the host too, so MSIs are accepted without any guest set-up code.
    /// </param>
    public static void EnterUserMode(KvmVcpu vcpu, IGuestMemory memory, ulong entry, ulong stack = UserStackTop, bool interruptsEnabled = false)
    {
        ArgumentNullException.ThrowIfNull(vcpu);
        ArgumentNullException.ThrowIfNull(memory);
        ulong frame = KernelStackTop - (5 * 8);
        memory.WriteUInt64(frame + 0, entry);
        memory.WriteUInt64(frame + 8, UserCodeSelector);
        memory.WriteUInt64(frame + 16, interruptsEnabled ? 0x202ul : 0x2ul); // RFLAGS: IOPL 0
        if (interruptsEnabled)
        {
            kvm_lapic_state lapic = vcpu.GetLapic();
            KvmLapic.SetSoftwareEnabled(ref lapic);
            vcpu.SetLapic(ref lapic);
        }

        memory.WriteUInt64(frame + 24, stack);
        memory.WriteUInt64(frame + 32, UserDataSelector);
        EnterKernelMode(vcpu, IretqStubAddress, frame);
    }

    /// <summary>Sets <paramref name="vcpu"/> to run 64-bit ring-0 code at <paramref name="entry"/>.</summary>
    public static void EnterKernelMode(KvmVcpu vcpu, ulong entry, ulong stack = KernelStackTop)
    {
        ArgumentNullException.ThrowIfNull(vcpu);
        kvm_sregs sregs = vcpu.GetSpecialRegisters();
        sregs.cs = Segment(KernelCodeSelector, type: 0xB, dpl: 0, code64: true);
        kvm_segment data = Segment(KernelDataSelector, type: 0x3, dpl: 0, code64: false);
        sregs.ds = data;
        sregs.es = data;
        sregs.fs = data;
        sregs.gs = data;
        sregs.ss = data;
        sregs.tr = new kvm_segment { @base = TssAddress, limit = TssLimit, selector = TssSelector, type = 0xB, present = 1 };
        sregs.ldt = new kvm_segment { type = 0x2, unusable = 1 };
        sregs.gdt = new kvm_dtable { @base = GdtAddress, limit = 0x37 };
        sregs.idt = new kvm_dtable { @base = IdtAddress, limit = 0xFFF };
        sregs.cr0 = Cr0ProtectedMode | Cr0MonitorCoprocessor | Cr0ExtensionType | Cr0NumericError | Cr0WriteProtect | Cr0Paging;
        sregs.cr3 = Pml4Address;
        sregs.cr4 = Cr4Pae | Cr4OsFxsr | Cr4OsXmmExcept;
        sregs.efer = EferLme | EferLma;
        vcpu.SetSpecialRegisters(sregs);
        vcpu.SetDefaultFpu();
        vcpu.SetRegisters(new kvm_regs { rip = entry, rsp = stack, rflags = 0x2 });
    }

    private static kvm_segment Segment(ushort selector, byte type, byte dpl, bool code64) => new()
    {
        @base = 0,
        limit = 0xFFFF_FFFF,
        selector = selector,
        type = type,
        present = 1,
        dpl = dpl,
        db = code64 ? (byte)0 : (byte)1,
        s = 1,
        l = code64 ? (byte)1 : (byte)0,
        g = 1,
    };
}
