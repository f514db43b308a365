namespace Vmm.Contracts.Memory;

/// <summary>A guest address range that is not backed by guest memory. Always the guest's fault.</summary>
public sealed class GuestMemoryException : VmmException
{
    /// <summary>Creates the exception for the range [<paramref name="address"/>, +<paramref name="length"/>).</summary>
    public GuestMemoryException(ulong address, ulong length)
        : base($"Guest memory range 0x{address:x}+0x{length:x} is not backed by guest memory.")
    {
        Address = address;
        Length = length;
    }

    /// <summary>The first address of the rejected range.</summary>
    public ulong Address { get; }

    /// <summary>The length of the rejected range.</summary>
    public ulong Length { get; }
}
