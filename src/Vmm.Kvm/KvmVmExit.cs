namespace Vmm.Kvm;

/// <summary>Why a VM stopped running.</summary>
public enum KvmVmExitKind
{
    /// <summary>The host asked it to stop (<see cref="KvmVm.RequestStop(KvmVmExit)"/> or disposal).</summary>
    Stopped,

    /// <summary>The guest wrote the exit port (a test payload's "done").</summary>
    GuestExit,

    /// <summary>The guest asked for a reset (i8042 command 0xFE, KVM_SYSTEM_EVENT_RESET).</summary>
    GuestReset,

    /// <summary>The guest shut down: a triple fault (KVM_EXIT_SHUTDOWN) or a shutdown system event.</summary>
    GuestShutdown,

    /// <summary>A vCPU halted and the platform has no in-kernel irqchip to wake it.</summary>
    Halted,

    /// <summary>The guest raised an exception the payload's IDT reported.</summary>
    GuestException,

    /// <summary>KVM could not run the guest: an emulation failure, a failed VM entry, an unknown exit.</summary>
    PlatformError,

    /// <summary>A device handler threw while serving a guest access.</summary>
    DeviceError,
}

/// <summary>How and why a VM stopped, with a message fit for a log or a test failure.</summary>
/// <param name="Kind">The kind of exit.</param>
/// <param name="Message">What happened, with the figures KVM gave (registers, error codes).</param>
/// <param name="Code">A guest-supplied code (the exit port's value, an exception vector), when there is one.</param>
public sealed record KvmVmExit(KvmVmExitKind Kind, string Message, ulong Code = 0)
{
    /// <inheritdoc/>
    public override string ToString() => $"{Kind}: {Message}";
}
