using System.Runtime.InteropServices;

internal static partial class Interop
{
    internal static partial class Kvm
    {
        /// <summary>struct kvm_msrs: a header followed by <see cref="nmsrs"/> <see cref="kvm_msr_entry"/>s.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct kvm_msrs
        {
            internal uint nmsrs;
            internal uint pad;
        }

        /// <summary>struct kvm_msr_entry.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct kvm_msr_entry
        {
            internal uint index;
            internal uint reserved;
            internal ulong data;
        }

        /// <summary>struct kvm_msr_list: a count followed by that many MSR indices (u32).</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct kvm_msr_list
        {
            internal uint nmsrs;
        }
    }
}
