namespace Vmm.Core.Bus;

/// <summary>One registered range of an <see cref="AddressBus"/>: [<see cref="Start"/>, <see cref="Start"/> + <see cref="Length"/>).</summary>
/// <param name="Start">The first address of the range.</param>
/// <param name="Length">The length in bytes; never zero.</param>
/// <param name="Device">The device that decodes the range.</param>
public readonly record struct BusRange(ulong Start, ulong Length, IBusDevice Device)
{
    /// <summary>The last address of the range (inclusive), so a range may end at 2^64.</summary>
    public ulong Last => Start + (Length - 1);
}
