using System.Buffers.Binary;

namespace Vmm.Plugins.VirtioFs.Tests;

/// <summary>A reply as the guest sees it: fuse_out_header fields, the payload, and the used-ring length.</summary>
internal sealed record FuseReply(uint Length, int Error, ulong Unique, byte[] Payload, uint UsedLength)
{
    public uint U32(int offset) => BinaryPrimitives.ReadUInt32LittleEndian(Payload.AsSpan(offset));

    public ulong U64(int offset) => BinaryPrimitives.ReadUInt64LittleEndian(Payload.AsSpan(offset));

    /// <summary>Fails the test unless the reply is a success.</summary>
    public FuseReply Ok()
    {
        Assert.True(Error == 0, $"FUSE error {Error}");
        return this;
    }
}
