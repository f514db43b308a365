using Vmm.Contracts.Memory;
using Vmm.Contracts.Virtio;

namespace Vmm.Testing.Virtio;

/// <summary>
/// Builds descriptor chains by hand for a plugin's unit tests (a fake <see cref="IVirtqueue"/> hands them to the
/// device). Filling a chain is the queue's job and not part of the plugin ABI, so tests use this instead.
/// </summary>
public static class TestDescriptorChains
{
    /// <summary>A chain with head <paramref name="headIndex"/>: the readable buffers, then the writable ones.</summary>
    /// <exception cref="VirtioProtocolException">Never for these inputs: readable buffers always come first.</exception>
    public static DescriptorChain Create(IGuestMemory memory, ushort headIndex, ReadOnlySpan<GuestBuffer> readable, ReadOnlySpan<GuestBuffer> writable)
    {
        ArgumentNullException.ThrowIfNull(memory);
        var chain = new DescriptorChain(memory, Math.Max(1, readable.Length + writable.Length));
        chain.Reset(headIndex);
        foreach (GuestBuffer buffer in readable)
        {
            chain.AddReadable(buffer);
        }

        foreach (GuestBuffer buffer in writable)
        {
            chain.AddWritable(buffer);
        }

        return chain;
    }
}
