using System.Buffers.Binary;
using System.Text;

namespace Vmm.Plugins.VirtioFs.Tests;

/// <summary>Packs FUSE in-arguments the way the Linux client does: fixed fields back to back, names NUL-terminated.</summary>
internal sealed class FuseArgsBuilder
{
    private readonly List<byte> _bytes = [];

    public FuseArgsBuilder U32(uint value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, value);
        _bytes.AddRange(b);
        return this;
    }

    public FuseArgsBuilder U64(ulong value)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, value);
        _bytes.AddRange(b);
        return this;
    }

    public FuseArgsBuilder Zeros(int count)
    {
        _bytes.AddRange(new byte[count]);
        return this;
    }

    public FuseArgsBuilder Name(string name)
    {
        _bytes.AddRange(Encoding.UTF8.GetBytes(name));
        _bytes.Add(0);
        return this;
    }

    public FuseArgsBuilder Bytes(ReadOnlySpan<byte> data)
    {
        _bytes.AddRange(data);
        return this;
    }

    public byte[] ToArray() => [.. _bytes];
}
