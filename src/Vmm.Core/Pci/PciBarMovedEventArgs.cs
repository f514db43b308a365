namespace Vmm.Core.Pci;

/// <summary>
/// Where a BAR decodes changed: placed, moved by the guest, or switched on or off by the command register. A
/// platform follows it with ioeventfds and memory slots.
/// </summary>
/// <param name="Device">The slot number on bus 0.</param>
/// <param name="Function">The function in the slot.</param>
/// <param name="Bar">The BAR.</param>
/// <param name="OldAddress">Where it decoded before, or null when it did not.</param>
/// <param name="NewAddress">Where it decodes now, or null when it stopped.</param>
public sealed class PciBarMovedEventArgs(int Device, IPciFunction Function, PciBarDefinition Bar, ulong? OldAddress, ulong? NewAddress) : EventArgs
{
    /// <summary>The slot number on bus 0.</summary>
    public int Device { get; } = Device;

    /// <summary>The function in the slot.</summary>
    public IPciFunction Function { get; } = Function;

    /// <summary>The BAR.</summary>
    public PciBarDefinition Bar { get; } = Bar;

    /// <summary>Where it decoded before, or null.</summary>
    public ulong? OldAddress { get; } = OldAddress;

    /// <summary>Where it decodes now, or null.</summary>
    public ulong? NewAddress { get; } = NewAddress;
}
