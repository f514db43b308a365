namespace Vmm.Plugins.VirtioFs;

/// <summary>The DAX window of a virtio-fs device (shared-memory region 0).</summary>
public sealed class VirtioFsDaxOptions
{
    /// <summary>The window size in bytes, a multiple of 2 MiB; 0 (default) turns DAX off.</summary>
    public ulong WindowSize { get; set; }
}
