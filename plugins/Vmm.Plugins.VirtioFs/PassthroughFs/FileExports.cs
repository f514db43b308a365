using Microsoft.Win32.SafeHandles;

namespace Vmm.Plugins.VirtioFs.PassthroughFs;

/// <summary>One device's part of the plugin's <see cref="FileExportTable"/>: its fs_id and the handles it exported.</summary>
internal sealed class FileExports(FileExportTable table, ulong fileSystemId)
{
    /// <summary>The fs_id EXPORT_FD answers for this device.</summary>
    public ulong FileSystemId => fileSystemId;

    /// <summary>Exports the open file of FUSE handle <paramref name="handle"/>; false when the table is full.</summary>
    public bool Export(ulong handle, SafeFileHandle file) => table.Add(fileSystemId, handle, file);

    /// <summary>The handle was released: its export goes with it.</summary>
    public void Release(ulong handle) => table.Remove(fileSystemId, handle);

    /// <summary>Every handle of the device went (reset, FUSE_DESTROY, disposal).</summary>
    public void Clear() => table.RemoveAll(fileSystemId);
}
