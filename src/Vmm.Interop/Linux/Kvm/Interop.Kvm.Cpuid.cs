using System.Runtime.InteropServices;

internal static partial class Interop
{
    internal static partial class Kvm
    {
        /// <summary>struct kvm_cpuid2: a header followed by <see cref="nent"/> <see cref="kvm_cpuid_entry2"/>s.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct kvm_cpuid2
        {
            internal uint nent;
            internal uint padding;
        }

        /// <summary>struct kvm_cpuid_entry2: one CPUID leaf (and sub-leaf when flagged significant).</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal unsafe struct kvm_cpuid_entry2
        {
            internal uint function;
            internal uint index;
            internal uint flags;
            internal uint eax;
            internal uint ebx;
            internal uint ecx;
            internal uint edx;
            internal fixed uint padding[3];
        }
    }
}
