namespace Vmm.Core.Hosting;

/// <summary>How a VM run ended.</summary>
/// <param name="Outcome">Stopped cleanly, guest failure, or VMM failure.</param>
/// <param name="Message">What happened, for a person; null on a clean stop.</param>
public sealed record VmRunResult(VmRunOutcome Outcome, string? Message = null)
{
    /// <summary>A clean stop.</summary>
    public static VmRunResult Stopped { get; } = new(VmRunOutcome.Stopped);
}

/// <summary>The ways a VM run ends.</summary>
public enum VmRunOutcome
{
    /// <summary>The guest powered off or the VM was asked to stop.</summary>
    Stopped,

    /// <summary>The guest crashed, triple-faulted or could not boot.</summary>
    GuestFailed,

    /// <summary>The VMM itself failed (a device, a platform call).</summary>
    VmmFailed,
}
