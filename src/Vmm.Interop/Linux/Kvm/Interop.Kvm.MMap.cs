internal static partial class Interop
{
    internal static partial class Kvm
    {
        // The shared Interop.Mmap family has no PROT_EXEC; only the vCPU kick stub needs it.
        internal const int PROT_EXEC = 0x4;
    }
}
