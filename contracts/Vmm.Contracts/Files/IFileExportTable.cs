using Microsoft.Win32.SafeHandles;

namespace Vmm.Contracts.Files;

/// <summary>
/// Host files the guest exported from a shared file system by an open handle (virtio-fs answers libkrun's
/// <c>VIRTIO_IOC_EXPORT_FD</c> ioctl with <c>{fs_id, handle}</c>), so another plugin's device can reach the same host
/// file: cross-domain maps a futex word in it and passes it to the X server. A plugin registers one table in its
/// container; other plugins of the VM get every table as <c>IEnumerable&lt;IFileExportTable&gt;</c>. An export lives
/// until the guest releases the handle or the file system device resets.
/// </summary>
public interface IFileExportTable
{
    /// <summary>
    /// A new descriptor (close-on-exec, owned by the caller) for the file exported as
    /// (<paramref name="fileSystemId"/>, <paramref name="handle"/>), or null when no such export exists.
    /// </summary>
    SafeFileHandle? OpenExport(ulong fileSystemId, ulong handle);
}
