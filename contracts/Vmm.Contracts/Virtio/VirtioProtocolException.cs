namespace Vmm.Contracts.Virtio;

/// <summary>
/// The guest broke the virtio protocol: a malformed descriptor chain, a request shorter than its header, a
/// value out of range. Thrown from a device's queue handler it puts that device in DEVICE_NEEDS_RESET; the VM
/// and its other devices go on.
/// </summary>
public sealed class VirtioProtocolException : VmmException
{
    /// <summary>Creates the exception.</summary>
    public VirtioProtocolException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its cause.</summary>
    public VirtioProtocolException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
