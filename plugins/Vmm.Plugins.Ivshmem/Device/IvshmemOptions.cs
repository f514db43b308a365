namespace Vmm.Plugins.Ivshmem.Device;

/// <summary>The options of an <c>ivshmem</c> device: the host file behind BAR2 and its size.</summary>
public sealed class IvshmemOptions
{
    /// <summary>The default size: 32 MiB, what Looking Glass needs for 1080p SDR.</summary>
    public const long DefaultSize = 32L << 20;

    /// <summary>
    /// The host file shared with the guest (for example <c>/dev/shm/looking-glass</c>), relative to the config's
    /// folder; created at <see cref="Size"/> when missing or empty, refused (never truncated) at any other size.
    /// Left out, the memory is an anonymous memfd only this VMM (and what it hands the fd to) can map.
    /// </summary>
    public string? Path { get; set; }

    /// <summary>BAR2's size in bytes: a power of two from 1 MiB (1048576) up to 32 GiB.</summary>
    public long Size { get; set; } = DefaultSize;

    /// <summary>
    /// Whether the device is a display source too (IVSHMEM capture): the guest writes Looking Glass KVMFR frames into
    /// BAR2 and the display router shows them. On by default; off for shared memory with another use.
    /// </summary>
    public bool Capture { get; set; } = true;
}
