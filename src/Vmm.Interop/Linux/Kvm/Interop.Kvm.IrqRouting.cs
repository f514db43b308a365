using System.Runtime.InteropServices;

internal static partial class Interop
{
    internal static partial class Kvm
    {
        /// <summary>struct kvm_irq_routing: a header followed by <see cref="nr"/> routing entries.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct kvm_irq_routing
        {
            internal uint nr;
            internal uint flags;
        }

        /// <summary>struct kvm_irq_routing_entry: one GSI's route (irqchip pin or MSI message).</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct kvm_irq_routing_entry
        {
            internal uint gsi;
            internal uint type;
            internal uint flags;
            internal uint pad;
            internal kvm_irq_routing_entry_u u;
        }

        /// <summary>The union of kvm_irq_routing_entry (32 bytes).</summary>
        [StructLayout(LayoutKind.Explicit, Size = 32)]
        internal struct kvm_irq_routing_entry_u
        {
            [FieldOffset(0)]
            internal kvm_irq_routing_irqchip irqchip;

            [FieldOffset(0)]
            internal kvm_irq_routing_msi msi;
        }

        /// <summary>struct kvm_irq_routing_irqchip.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct kvm_irq_routing_irqchip
        {
            internal uint irqchip;
            internal uint pin;
        }

        /// <summary>struct kvm_irq_routing_msi.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct kvm_irq_routing_msi
        {
            internal uint address_lo;
            internal uint address_hi;
            internal uint data;
            internal uint devid;
        }
    }
}
