using System.Runtime.InteropServices;
using Vmm.Plugins.VirtioFs.Server;

namespace Vmm.Plugins.VirtioFs.Host;

/// <summary>A host file-system call failed: the FUSE server answers its errno.</summary>
internal sealed class NativeCallException : FuseFileSystemException
{
    public NativeCallException(string operation, int errno)
        : base($"{operation} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).", errno)
    {
        Operation = operation;
    }

    /// <summary>The call that failed, for example <c>openat2</c>.</summary>
    public string Operation { get; }
}
