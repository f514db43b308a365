using System.Runtime.InteropServices;

internal static partial class Interop
{
    internal static partial class Kvm
    {
        /// <summary>struct kvm_segment: the hidden part of a segment register.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct kvm_segment
        {
            internal ulong @base;
            internal uint limit;
            internal ushort selector;
            internal byte type;
            internal byte present, dpl, db, s, l, g, avl;
            internal byte unusable;
            internal byte padding;
        }

        /// <summary>struct kvm_dtable: GDTR / IDTR.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal unsafe struct kvm_dtable
        {
            internal ulong @base;
            internal ushort limit;
            internal fixed ushort padding[3];
        }

        /// <summary>struct kvm_sregs (KVM_GET_SREGS / KVM_SET_SREGS).</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal unsafe struct kvm_sregs
        {
            internal kvm_segment cs, ds, es, fs, gs, ss;
            internal kvm_segment tr, ldt;
            internal kvm_dtable gdt, idt;
            internal ulong cr0, cr2, cr3, cr4, cr8;
            internal ulong efer;
            internal ulong apic_base;
            internal fixed ulong interrupt_bitmap[4];
        }
    }
}
