using Microsoft.Win32.SafeHandles;
using Vmm.Contracts.Virtio;
using Vmm.Plugins.VirtioFs.Host;
using Vmm.Plugins.VirtioFs.Server;

namespace Vmm.Plugins.VirtioFs.PassthroughFs;

/// <summary>DAX: file ranges mapped into the device's window, page-aligned and inside it.</summary>
internal sealed partial class PassthroughFileSystem
{
    private static ulong PageMask => (ulong)Environment.SystemPageSize - 1;

    /// <summary>
    /// SETUPMAPPING maps a file range into the DAX window. 6.1 sends fh = ~0 (never a real handle), so the file
    /// is the node's, reopened here; the mapping keeps it alive after the handle closes. Re-mapping the same
    /// window range (a read mapping upgraded to write) simply replaces it.
    /// </summary>
    public FuseError SetupMapping(in FuseContext context, ulong nodeId, in FuseSetupMappingIn mapping, ISharedMemoryRegion window)
    {
        if (!TryGetInode(nodeId, out Inode inode))
        {
            return Fail(Errno.ENOENT);
        }

        if (!inode.IsRegularFile)
        {
            return Fail(Errno.EINVAL);
        }

        bool writable = (mapping.Flags & FuseProtocol.SetupMappingWrite) != 0;
        if (writable && _readOnly)
        {
            return Fail(Errno.EROFS);
        }

        if (!IsWindowRange(window, mapping.WindowOffset, mapping.Length) || (mapping.FileOffset & PageMask) != 0
            || mapping.FileOffset > (ulong)long.MaxValue - mapping.Length)
        {
            return Fail(Errno.EINVAL);
        }

        using SafeFileHandle file = HostFileSystem.Reopen(_procSelfFd, inode.Handle, writable ? HostFileSystem.ReadWriteFlags : HostFileSystem.ReadOnlyFlags);
        window.MapFile(mapping.WindowOffset, file, (long)mapping.FileOffset, mapping.Length, writable);
        return FuseError.None;
    }

    public FuseError RemoveMapping(ulong windowOffset, ulong length, ISharedMemoryRegion window)
    {
        if (!IsWindowRange(window, windowOffset, length))
        {
            return Fail(Errno.EINVAL);
        }

        window.Unmap(windowOffset, length);
        return FuseError.None;
    }

    private static bool IsWindowRange(ISharedMemoryRegion window, ulong offset, ulong length)
        => length != 0 && ((offset | length) & PageMask) == 0 && offset <= window.Size && length <= window.Size - offset;
}
