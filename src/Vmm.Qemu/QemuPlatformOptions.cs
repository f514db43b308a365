namespace Vmm.Qemu;

/// <summary>How the qemu platform finds QEMU, picks an accelerator and where the guest's console goes.</summary>
public sealed class QemuPlatformOptions
{
    /// <summary>The QEMU executable; null searches <c>$PATH</c> for <c>qemu-system-x86_64</c>.</summary>
    public string? QemuPath { get; set; }

    /// <summary>KVM, TCG, or Auto (KVM only where <see cref="RunsGuestKernelsNatively"/> says so).</summary>
    public QemuAccelerator Accelerator { get; set; } = QemuAccelerator.Auto;

    /// <summary>
    /// The ring-0 probe: whether /dev/kvm runs guest kernel code natively. On hosts whose KVM emulates ring 0 (see
    /// ENVIRONMENT.md) a Linux guest never gets out of its decompressor, so Auto picks TCG there. Null: TCG.
    /// </summary>
    public Func<bool>? RunsGuestKernelsNatively { get; set; }

    /// <summary>Receives the guest's serial console, line by line. Null discards it (the log still gets QEMU's stderr).</summary>
    public TextWriter? SerialOutput { get; set; }

    /// <summary>
    /// Whether QEMU inherits this process's stdin and stdout, so the guest's serial console is the terminal (a person
    /// can type into the guest's shell; QEMU puts the terminal in raw mode and restores it). When set,
    /// <see cref="SerialOutput"/> and <see cref="SerialInput"/> are not used.
    /// </summary>
    public bool InheritConsole { get; set; }

    /// <summary>Bytes for the guest's serial console (copied to QEMU's stdin), or null for none.</summary>
    public Stream? SerialInput { get; set; }

    /// <summary>
    /// Where the default guest comes from when the VM config names no kernel and <see cref="DefaultKernelPath"/> is
    /// null: the guest-image cache, built on first use.
    /// </summary>
    public GuestImages.GuestImageCache? GuestImage { get; set; }

    /// <summary>Receives progress lines (the guest-image build); null: none.</summary>
    public TextWriter? Progress { get; set; }

    /// <summary>How long the guest gets to power itself off after a control <c>stop</c> (ACPI power button) before QEMU is told to quit.</summary>
    public TimeSpan PowerdownTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>The kernel used when the VM config names none (the guest image from tools/guest-image/build.sh).</summary>
    public string? DefaultKernelPath { get; set; }

    /// <summary>The initrd used with <see cref="DefaultKernelPath"/>.</summary>
    public string? DefaultInitrdPath { get; set; }

    /// <summary>How long QEMU gets to exit after QMP <c>quit</c> before it is killed.</summary>
    public TimeSpan StopTimeout { get; set; } = TimeSpan.FromSeconds(5);
}
