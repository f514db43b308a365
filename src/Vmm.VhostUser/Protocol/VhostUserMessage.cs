using Microsoft.Win32.SafeHandles;

namespace Vmm.VhostUser.Protocol;

/// <summary>
/// One received message: header, payload and the descriptors that came with it. Reused for every message of a
/// connection; the descriptors belong to the message until a handler takes them with <see cref="TakeDescriptor"/>,
/// and <see cref="Clear"/> closes every one left behind.
/// </summary>
internal sealed class VhostUserMessage : IDisposable
{
    private readonly byte[] _payload = new byte[VhostUserHeader.MaxPayloadSize];

    /// <summary>The header.</summary>
    public VhostUserHeader Header { get; set; }

    /// <summary>The payload (exactly <see cref="VhostUserHeader.Size"/> bytes).</summary>
    public ReadOnlySpan<byte> Payload => _payload.AsSpan(0, (int)Header.Size);

    /// <summary>The payload buffer the channel fills.</summary>
    internal Span<byte> PayloadBuffer => _payload;

    /// <summary>The received descriptors, in order; taken ones are null.</summary>
    public List<SafeFileHandle?> Descriptors { get; } = [];

    /// <summary>The number of descriptors that came with the message.</summary>
    public int DescriptorCount => Descriptors.Count;

    /// <summary>Takes ownership of descriptor <paramref name="index"/>; the caller must dispose it.</summary>
    public SafeFileHandle TakeDescriptor(int index)
    {
        SafeFileHandle handle = Descriptors[index] ?? throw new InvalidOperationException("The descriptor was already taken.");
        Descriptors[index] = null;
        return handle;
    }

    /// <summary>Closes every descriptor nobody took and forgets the message.</summary>
    public void Clear()
    {
        foreach (SafeFileHandle? handle in Descriptors)
        {
            handle?.Dispose();
        }

        Descriptors.Clear();
        Header = default;
    }

    /// <inheritdoc/>
    public void Dispose() => Clear();
}
