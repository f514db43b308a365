using System.Runtime.InteropServices;

internal static partial class Interop
{
    internal static partial class Kvm
    {
        /// <summary>struct kvm_fpu (KVM_SET_FPU): x87 and SSE state.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal unsafe struct kvm_fpu
        {
            internal fixed byte fpr[8 * 16];
            internal ushort fcw;
            internal ushort fsw;
            internal byte ftwx;
            internal byte pad1;
            internal ushort last_opcode;
            internal ulong last_ip;
            internal ulong last_dp;
            internal fixed byte xmm[16 * 16];
            internal uint mxcsr;
            internal uint pad2;
        }
    }
}
