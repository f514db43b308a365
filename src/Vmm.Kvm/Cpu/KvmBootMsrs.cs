namespace Vmm.Kvm.Cpu;

/// <summary>The MSRs a vCPU starts with (Firecracker's boot set): syscall and sysenter off, fast strings, WB MTRRs.</summary>
internal static class KvmBootMsrs
{
    public static readonly (uint Index, ulong Value)[] Entries =
    [
        (0x174, 0), // IA32_SYSENTER_CS
        (0x175, 0), // IA32_SYSENTER_ESP
        (0x176, 0), // IA32_SYSENTER_EIP
        (0xC000_0081, 0), // STAR
        (0xC000_0082, 0), // LSTAR
        (0xC000_0083, 0), // CSTAR
        (0xC000_0084, 0), // SYSCALL_MASK
        (0xC000_0102, 0), // KERNEL_GS_BASE
        (0x10, 0), // IA32_TSC
        (0x1A0, 1), // IA32_MISC_ENABLE: fast strings
        (0x2FF, 0x806), // IA32_MTRR_DEF_TYPE: enabled, default write-back
    ];
}
