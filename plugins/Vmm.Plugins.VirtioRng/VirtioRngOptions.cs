namespace Vmm.Plugins.VirtioRng;

/// <summary>
/// The options of a <c>virtio-rng</c> device, modelled on QEMU's rng backends: where entropy comes from and how
/// fast the guest may take it.
/// </summary>
public sealed class VirtioRngOptions
{
    /// <summary>The "os" source: the host's cryptographic random number generator.</summary>
    public const string OsSource = "os";

    /// <summary>The "file" source: bytes read from <see cref="Path"/> (for example <c>/dev/urandom</c>).</summary>
    public const string FileSource = "file";

    /// <summary>Where entropy comes from: <c>os</c> (default) or <c>file</c>.</summary>
    public string Source { get; set; } = OsSource;

    /// <summary>The file read when <see cref="Source"/> is <c>file</c>; relative to the config's folder.</summary>
    public string? Path { get; set; }

    /// <summary>The most bytes the guest gets per period; 0 means unlimited.</summary>
    public long MaxBytesPerPeriod { get; set; }

    /// <summary>The length of a rate-limit period in milliseconds.</summary>
    public int PeriodMs { get; set; } = 1000;
}
