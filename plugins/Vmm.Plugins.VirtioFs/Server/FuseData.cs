using Vmm.Contracts.Virtio;

namespace Vmm.Plugins.VirtioFs.Server;

/// <summary>
/// The guest buffers of a READ reply or a WRITE request, left in the chain so a file system can move the bytes
/// without a copy through the server (crosvm's ZeroCopyReader and ZeroCopyWriter): <see cref="Length"/> bytes of the
/// chain's writable part (READ) or readable part (WRITE) from <see cref="ChainOffset"/>.
/// </summary>
internal readonly struct FuseData
{
    public FuseData(DescriptorChain chain, long chainOffset, int length)
    {
        Chain = chain;
        ChainOffset = chainOffset;
        Length = length;
    }

    public DescriptorChain Chain { get; }

    /// <summary>Where the data starts in its part of the chain (past the headers).</summary>
    public long ChainOffset { get; }

    /// <summary>How many bytes: the most a READ may return, exactly what a WRITE carries.</summary>
    public int Length { get; }

    /// <summary>Copies READ data into the reply (a file system with no zero-copy path of its own); at most <see cref="Length"/> bytes.</summary>
    public int Write(ReadOnlySpan<byte> data)
    {
        return Chain.Write(ChainOffset, data[..Math.Min(data.Length, Length)]);
    }

    /// <summary>Copies WRITE data out of the request into <paramref name="destination"/> (at most <see cref="Length"/> bytes); returns how many.</summary>
    public int Read(Span<byte> destination) => Chain.Read(ChainOffset, destination[..Math.Min(destination.Length, Length)]);
}
