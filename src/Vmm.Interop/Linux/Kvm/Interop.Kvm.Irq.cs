using System.Runtime.InteropServices;

internal static partial class Interop
{
    internal static partial class Kvm
    {
        /// <summary>struct kvm_irq_level (KVM_IRQ_LINE): a GSI and its new level.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct kvm_irq_level
        {
            internal uint irq;
            internal uint level;
        }

        /// <summary>struct kvm_pit_config (KVM_CREATE_PIT2).</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal unsafe struct kvm_pit_config
        {
            internal uint flags;
            internal fixed uint pad[15];
        }

        /// <summary>struct kvm_msi (KVM_SIGNAL_MSI).</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal unsafe struct kvm_msi
        {
            internal uint address_lo;
            internal uint address_hi;
            internal uint data;
            internal uint flags;
            internal uint devid;
            internal fixed byte pad[12];
        }
    }
}
