using Vmm.Core.Bus;

namespace Vmm.Core.Pci;

/// <summary>
/// Enhanced configuration access (MMCONFIG) for bus 0: offset <c>bus &lt;&lt; 20 | dev &lt;&lt; 15 | fn &lt;&lt; 12 | reg</c>.
/// Registers beyond the 256-byte header read 0; absent functions read all-ones.
/// </summary>
public sealed class PciEcam : IBusDevice
{
    /// <summary>One bus worth of ECAM: 32 devices x 8 functions x 4 KiB.</summary>
    public const ulong Size = 1UL << 20;

    private readonly PciRoot _root;

    internal PciEcam(PciRoot root) => _root = root;

    /// <inheritdoc />
    public void Read(ulong offset, Span<byte> data)
    {
        if (!TryDecode(offset, data.Length, out int device, out int function, out int register))
        {
            data.Fill(0xFF);
            return;
        }

        _root.ReadConfig(0, device, function, register, data);
    }

    /// <inheritdoc />
    public void Write(ulong offset, ReadOnlySpan<byte> data)
    {
        if (TryDecode(offset, data.Length, out int device, out int function, out int register))
        {
            _root.WriteConfig(0, device, function, register, data);
        }
    }

    private static bool TryDecode(ulong offset, int length, out int device, out int function, out int register)
    {
        device = (int)((offset >> 15) & 0x1F);
        function = (int)((offset >> 12) & 0x7);
        register = (int)(offset & 0xFFF);

        // An access may not straddle two functions' spaces.
        return register + length <= PciIds.ExtendedConfigSpaceSize;
    }
}
