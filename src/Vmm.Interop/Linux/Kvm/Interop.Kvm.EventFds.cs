using System.Runtime.InteropServices;

internal static partial class Interop
{
    internal static partial class Kvm
    {
        /// <summary>struct kvm_irqfd (KVM_IRQFD): an eventfd that injects a GSI when written.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal unsafe struct kvm_irqfd
        {
            internal uint fd;
            internal uint gsi;
            internal uint flags;
            internal uint resamplefd;
            internal fixed byte pad[16];
        }

        /// <summary>struct kvm_ioeventfd (KVM_IOEVENTFD): a guest write that signals an eventfd without an exit.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal unsafe struct kvm_ioeventfd
        {
            internal ulong datamatch;
            internal ulong addr;
            internal uint len;
            internal int fd;
            internal uint flags;
            internal fixed byte pad[36];
        }
    }
}
