using System.Runtime.InteropServices;

internal static partial class Interop
{
    /// <summary>The KVM ioctl ABI (linux/kvm.h): request numbers, structs, constants, and the calls.</summary>
    internal static unsafe partial class Kvm
    {
        /// <summary>The ioctl type byte of every KVM request.</summary>
        internal const uint KVMIO = 0xAE;

        private const uint IOC_NONE = 0;
        private const uint IOC_WRITE = 1;
        private const uint IOC_READ = 2;

        /// <summary>asm-generic/ioctl.h <c>_IOC</c>: dir in bits 30-31, size in 16-29, type in 8-15, nr in 0-7.</summary>
        internal static uint IOC(uint direction, uint type, uint nr, uint size) =>
            (direction << 30) | (size << 16) | (type << 8) | nr;

        /// <summary><c>_IO(KVMIO, nr)</c>: no argument struct.</summary>
        internal static uint IO(uint nr) => IOC(IOC_NONE, KVMIO, nr, 0);

        /// <summary><c>_IOR(KVMIO, nr, T)</c>: the kernel writes a <typeparamref name="T"/>.</summary>
        internal static uint IOR<T>(uint nr)
            where T : unmanaged => IOC(IOC_READ, KVMIO, nr, (uint)sizeof(T));

        /// <summary><c>_IOW(KVMIO, nr, T)</c>: the kernel reads a <typeparamref name="T"/>.</summary>
        internal static uint IOW<T>(uint nr)
            where T : unmanaged => IOC(IOC_WRITE, KVMIO, nr, (uint)sizeof(T));

        /// <summary><c>_IOWR(KVMIO, nr, T)</c>: both directions.</summary>
        internal static uint IOWR<T>(uint nr)
            where T : unmanaged => IOC(IOC_READ | IOC_WRITE, KVMIO, nr, (uint)sizeof(T));

        /// <summary>ioctl with an integer argument (or none). Returns the call's result, -1 with errno on failure.</summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "ioctl", SetLastError = true)]
        internal static partial int Ioctl(SafeHandle fd, nuint request, nuint argument);

        /// <summary>ioctl with a pointer argument. The memory must not move during the call.</summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "ioctl", SetLastError = true)]
        internal static partial int Ioctl(SafeHandle fd, nuint request, void* argument);

        /// <summary>ioctl on a handle the caller keeps alive (the vCPU run loop), without SafeHandle ref counting.</summary>
        [LibraryImport(Libraries.Libc, EntryPoint = "ioctl", SetLastError = true)]
        internal static partial int IoctlRaw(int fd, nuint request, nuint argument);

        /// <summary>ioctl with a struct argument passed by reference.</summary>
        internal static int Ioctl<T>(SafeHandle fd, uint request, ref T argument)
            where T : unmanaged
        {
            fixed (T* pointer = &argument)
            {
                return Ioctl(fd, request, pointer);
            }
        }
    }
}
