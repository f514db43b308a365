using System.Runtime.InteropServices;

namespace Vmm.Plugins.VirtioFs.Host;

/// <summary>A host file-system call failed: the FUSE server answers its errno.</summary>
internal sealed class NativeCallException : IOException
{
    public NativeCallException(string operation, int errno)
        : base($"{operation} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).")
    {
        Operation = operation;
        Errno = errno;
    }

    /// <summary>The call that failed, for example <c>openat2</c>.</summary>
    public string Operation { get; }

    /// <summary>The errno the call left.</summary>
    public int Errno { get; }
}
