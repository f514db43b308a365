namespace Vmm.Plugins.Ivshmem.Device;

/// <summary>
/// BAR0 of an IVSHMEM device (QEMU <c>docs/specs/ivshmem-spec.rst</c>): 256 bytes, 4-byte little-endian registers,
/// other access sizes refused (QEMU's <c>min/max_access_size = 4</c>).
/// </summary>
internal static class IvshmemRegisters
{
    /// <summary>The size of BAR0.</summary>
    public const ulong Size = 0x100;

    /// <summary>The only access size the registers answer.</summary>
    public const int AccessSize = 4;

    /// <summary>Interrupt mask (bit 0, revision 0 only; kept as written).</summary>
    public const ulong InterruptMaskOffset = 0x00;

    /// <summary>Interrupt status (bit 0); reading it clears it.</summary>
    public const ulong InterruptStatusOffset = 0x04;

    /// <summary>This peer's id: 0 without interrupts (ivshmem-plain).</summary>
    public const ulong IvPositionOffset = 0x08;

    /// <summary>Doorbell (peer id in bits 31..16, vector in 15..0); ignored without interrupts.</summary>
    public const ulong DoorbellOffset = 0x0C;
}
