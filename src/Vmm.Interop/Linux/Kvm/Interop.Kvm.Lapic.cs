using System.Runtime.InteropServices;

internal static partial class Interop
{
    internal static partial class Kvm
    {
        /// <summary>struct kvm_lapic_state: the 1 KiB local APIC register page, little-endian.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal unsafe struct kvm_lapic_state
        {
            internal const int KVM_APIC_REG_SIZE = 0x400;

            internal fixed byte regs[KVM_APIC_REG_SIZE];
        }
    }
}
