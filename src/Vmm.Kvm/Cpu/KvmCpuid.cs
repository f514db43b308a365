using static Interop.Kvm;

namespace Vmm.Kvm.Cpu;

/// <summary>Builds one vCPU's CPUID table from what KVM supports, with the per-vCPU and hypervisor patches.</summary>
internal static class KvmCpuid
{
    private const uint AmdVendorEbx = 0x6874_7541; // "Auth" of "AuthenticAMD"

    // "KVMKVMKVM\0\0\0", as KVM itself reports it: PVM guests detect their hypervisor by it.
    private const uint KvmSignatureEbx = 0x4B4D_564B;
    private const uint KvmSignatureEcx = 0x564B_4D56;
    private const uint KvmSignatureEdx = 0x0000_004D;

    public static kvm_cpuid_entry2[] ForVcpu(ReadOnlySpan<kvm_cpuid_entry2> supported, uint apicId, int vcpuCount, bool tscDeadline)
    {
        kvm_cpuid_entry2[] entries = supported.ToArray();
        bool amd = entries.Length > 0 && entries[0].function == 0 && entries[0].ebx == AmdVendorEbx;
        for (int i = 0; i < entries.Length; i++)
        {
            ref kvm_cpuid_entry2 entry = ref entries[i];
            switch (entry.function)
            {
                case 1:
                    // EBX: initial APIC id [31:24], logical processors [23:16], CLFLUSH line in qwords [15:8].
                    entry.ebx = (apicId << 24) | ((uint)Math.Min(vcpuCount, 255) << 16) | (8u << 8) | (entry.ebx & 0xFF);
                    entry.ecx |= 1u << 31; // running under a hypervisor
                    entry.ecx &= ~(1u << 15); // no PDCM: the guest cannot read perf capabilities
                    if (tscDeadline)
                    {
                        entry.ecx |= 1u << 24;
                    }

                    entry.edx = vcpuCount > 1 ? entry.edx | (1u << 28) : entry.edx & ~(1u << 28);
                    break;
                case 7 when entry.index == 0 && amd:
                    // KVM reports IA32_ARCH_CAPABILITIES on AMD though the MSR cannot be written there.
                    entry.edx &= ~(1u << 29);
                    break;
                case 0xB:
                case 0x1F:
                    entry.edx = apicId; // x2APIC id of this vCPU at every topology level
                    break;
                case 0x4000_0000:
                    entry.eax = Math.Max(entry.eax, 0x4000_0001);
                    entry.ebx = KvmSignatureEbx;
                    entry.ecx = KvmSignatureEcx;
                    entry.edx = KvmSignatureEdx;
                    break;
                case 0x8000_001E when amd:
                    entry.eax = apicId;
                    break;
            }
        }

        return entries;
    }
}
