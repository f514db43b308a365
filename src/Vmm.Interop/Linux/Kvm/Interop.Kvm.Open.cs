using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

internal static partial class Interop
{
    internal static partial class Kvm
    {
        internal const int O_RDWR = 0x2;
        internal const int O_CLOEXEC = 0x80000;

        /// <summary>The KVM device node.</summary>
        internal const string KvmDevicePath = "/dev/kvm";

        [LibraryImport(Libraries.Libc, EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        private static partial int OpenCore(string path, int flags);

        /// <summary>Opens <c>/dev/kvm</c> read-write, close-on-exec.</summary>
        internal static SafeFileHandle OpenKvm()
        {
            int fd = CheckIo(OpenCore(KvmDevicePath, O_RDWR | O_CLOEXEC), "open(" + KvmDevicePath + ")");
            return new SafeFileHandle(fd, ownsHandle: true);
        }

        /// <summary>Runs an ioctl that returns a new fd (KVM_CREATE_VM, KVM_CREATE_VCPU) and wraps the fd.</summary>
        internal static SafeFileHandle IoctlCreateFd(SafeHandle fd, uint request, nuint argument, string operation)
        {
            int created = CheckIo(Ioctl(fd, request, argument), operation);
            return new SafeFileHandle(created, ownsHandle: true);
        }
    }
}
