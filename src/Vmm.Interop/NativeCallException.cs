using System.Runtime.InteropServices;
using Vmm.Contracts;

namespace Vmm.Interop;

/// <summary>A host system call failed. Carries the call and errno; the message includes strerror's text.</summary>
public class NativeCallException : VmmException
{
    internal NativeCallException(string operation, int errno)
        : base($"{operation} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).")
    {
        Operation = operation;
        Errno = errno;
    }

    /// <summary>The call that failed, for example <c>ioctl(KVM_CREATE_VM)</c> or <c>mmap</c>.</summary>
    public string Operation { get; }

    /// <summary>The errno the call left.</summary>
    public int Errno { get; }
}
