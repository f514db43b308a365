namespace Vmm.Core.Pci;

/// <summary>
/// One entry of a configuration space's capability list. The config space stores its bytes; the capability fills
/// them, says which bits the guest may write, and hears about reads and writes that touch it.
/// </summary>
public abstract class PciCapability
{
    /// <summary>The capability id (0x09 vendor-specific, 0x11 MSI-X).</summary>
    public abstract byte Id { get; }

    /// <summary>The total length in bytes, the id and next-pointer bytes included.</summary>
    public abstract int Length { get; }

    /// <summary>Where the capability sits in configuration space, once added.</summary>
    public int Offset { get; internal set; }

    /// <summary>
    /// Fills the initial bytes (after the id and next bytes, which the config space owns) and the mask of bits the
    /// guest may write (zero by default: read-only).
    /// </summary>
    protected internal abstract void Initialize(Span<byte> bytes, Span<byte> writeMask);

    /// <summary>Called before the guest reads [<paramref name="offset"/>, +<paramref name="length"/>) of the capability; may refresh <paramref name="bytes"/>.</summary>
    protected internal virtual void OnReading(Span<byte> bytes, int offset, int length)
    {
    }

    /// <summary>Called after a guest write touched [<paramref name="offset"/>, +<paramref name="length"/>) of the capability.</summary>
    protected internal virtual void OnWritten(Span<byte> bytes, int offset, int length)
    {
    }
}
