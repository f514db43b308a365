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

    /// <summary>The kernel used when the VM config names none (the guest image from tools/guest-image/build.sh).</summary>
    public string? DefaultKernelPath { get; set; }

    /// <summary>The initrd used with <see cref="DefaultKernelPath"/>.</summary>
    public string? DefaultInitrdPath { get; set; }

    /// <summary>How long QEMU gets to exit after a stop request before it is killed.</summary>
    public TimeSpan StopTimeout { get; set; } = TimeSpan.FromSeconds(5);
}
