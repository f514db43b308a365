using System.Buffers.Binary;
using Microsoft.Extensions.Logging.Abstractions;
using Vmm.Contracts.Virtio;
using Vmm.Core.Memory;
using Vmm.Plugins.VirtioFs.Fuse;
using Vmm.Plugins.VirtioFs.PassthroughFs;
using Vmm.Plugins.VirtioFs.Server;

namespace Vmm.Plugins.VirtioFs.Tests;

/// <summary>The hot requests (GETATTR, READ, WRITE) allocate nothing once the session is warm.</summary>
public sealed class AllocationTests : IDisposable
{
    private const ulong RequestAddress = 0x1000;
    private const ulong ReplyAddress = 0x20000;

    private readonly TempShare _share = new();

    public void Dispose() => _share.Dispose();

    [Fact]
    public void GetAttrReadAndWriteAllocateNothingInSteadyState()
    {
        File.WriteAllBytes(_share.InShare("f"), new byte[64 * 1024]);
        using GuestMemory memory = GuestMemory.Create(1 << 20);
        using var session = new FuseSession("alloc", new FuseConnection(new PassthroughFileSystem(_share.Share, new VirtioFsOptions())), NullLogger.Instance, ownsConnection: true);
        var chain = new DescriptorChain(memory, 8);

        Send(session, chain, memory, FuseOpcode.Init, 0, new FuseArgsBuilder().U32(7).U32(37).U32(0).U32(0x7FFF_FFFB).Zeros(48).ToArray(), 0);
        ulong node = BinaryPrimitives.ReadUInt64LittleEndian(Send(session, chain, memory, FuseOpcode.Lookup, 1, new FuseArgsBuilder().Name("f").ToArray(), 0));
        ulong fh = BinaryPrimitives.ReadUInt64LittleEndian(Send(session, chain, memory, FuseOpcode.Open, node, new FuseArgsBuilder().U32(2).U32(0).ToArray(), 0));
        byte[] getattr = new FuseArgsBuilder().U32(0).U32(0).U64(0).ToArray();
        byte[] read = new FuseArgsBuilder().U64(fh).U64(4096).U32(8192).U32(0).U64(0).U32(0).U32(0).ToArray();
        byte[] write = new FuseArgsBuilder().U64(fh).U64(0).U32(4096).U32(0).U64(0).U32(0).U32(0).Bytes(new byte[4096]).ToArray();

        for (int round = 0; round < 2; round++)
        {
            WriteRequest(memory, FuseOpcode.GetAttr, node, getattr);
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 1000; i++)
            {
                Run(session, chain, memory, FuseOpcode.GetAttr, node, getattr, 0);
                Run(session, chain, memory, FuseOpcode.Read, node, read, 8192);
                Run(session, chain, memory, FuseOpcode.Write, node, write, 0);
            }

            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.Equal(16u + 104u, Run(session, chain, memory, FuseOpcode.GetAttr, node, getattr, 0));
            Assert.Equal(16u + 8192u, Run(session, chain, memory, FuseOpcode.Read, node, read, 8192));
            Assert.Equal(16u + 8u, Run(session, chain, memory, FuseOpcode.Write, node, write, 0));
            if (round == 1)
            {
                Assert.True(allocated < 1024, $"3,000 hot requests allocated {allocated} bytes.");
            }
        }
    }

    private static byte[] Send(FuseSession session, DescriptorChain chain, GuestMemory memory, FuseOpcode opcode, ulong node, byte[] args, int data)
    {
        uint used = Run(session, chain, memory, opcode, node, args, data);
        byte[] header = new byte[16];
        memory.Read(ReplyAddress, header);
        Assert.Equal(0, BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(4)));
        byte[] payload = new byte[used - 16];
        memory.Read(ReplyAddress + 16, payload);
        return payload;
    }

    private static uint Run(FuseSession session, DescriptorChain chain, GuestMemory memory, FuseOpcode opcode, ulong node, byte[] args, int data)
    {
        WriteRequest(memory, opcode, node, args);
        chain.Reset(0);
        chain.AddReadable(new GuestBuffer(RequestAddress, 40));
        chain.AddReadable(new GuestBuffer(RequestAddress + 40, (uint)args.Length));
        chain.AddWritable(new GuestBuffer(ReplyAddress, 16));
        chain.AddWritable(new GuestBuffer(ReplyAddress + 16, (uint)Math.Max(256, data)));
        return session.Handle(chain, 1);
    }

    private static void WriteRequest(GuestMemory memory, FuseOpcode opcode, ulong node, byte[] args)
    {
        Span<byte> header = stackalloc byte[40];
        header.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(header, (uint)(40 + args.Length));
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], (uint)opcode);
        BinaryPrimitives.WriteUInt64LittleEndian(header[16..], node);
        memory.Write(RequestAddress, header);
        memory.Write(RequestAddress + 40, args);
    }
}
