namespace Vmm.Qemu;

/// <summary>How a running QEMU guest is asked to stop.</summary>
internal enum QemuStopKind
{
    /// <summary>Control <c>stop</c>: the ACPI power button first (QMP <c>system_powerdown</c>), then QMP <c>quit</c>.</summary>
    Powerdown,

    /// <summary>Cancellation (Ctrl-C): QMP <c>quit</c> at once.</summary>
    Quit,
}
