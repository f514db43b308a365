using System.Runtime.InteropServices;

internal static partial class Interop
{
    internal static partial class Kvm
    {
        /// <summary>struct kvm_userspace_memory_region (KVM_SET_USER_MEMORY_REGION); size 0 deletes the slot.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct kvm_userspace_memory_region
        {
            internal uint slot;
            internal uint flags;
            internal ulong guest_phys_addr;
            internal ulong memory_size;
            internal ulong userspace_addr;
        }
    }
}
