namespace Vmm.Plugins.Ivshmem.Display;

/// <summary>The options of a <c>kvmfr-export</c> sink.</summary>
public sealed class KvmfrExportOptions
{
    /// <summary>
    /// The shared-memory file the real <c>looking-glass-client -f PATH</c> reads, relative to the config's folder;
    /// created at <see cref="Size"/> when missing or empty, refused (never truncated) at any other size. Left out:
    /// <c>/dev/shm/vmm-kvmfr-ID</c>.
    /// </summary>
    public string? Path { get; set; }

    /// <summary>
    /// The file's size: a power of two of at least 1 MiB. Looking Glass's rule is twice the frame plus 10 MiB, rounded up:
    /// 32 MiB (the default) for 1920x1080, 64 MiB for 2560x1440, 128 MiB for 3840x2160. Larger frames are truncated.
    /// </summary>
    public long Size { get; set; } = 32L << 20;

    /// <summary>
    /// How long a client may hold the oldest frame before it is dropped (LGMP's <c>maxTime</c>, written to the file,
    /// so every client honours it). Looking Glass uses 1000 ms; a client that renders in software can need more
    /// for its first frame.
    /// </summary>
    public int SubscriberTimeoutMs { get; set; } = 1000;
}
