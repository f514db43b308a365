using System.Buffers.Binary;
using Microsoft.Extensions.Logging.Abstractions;
using Vmm.Contracts.Virtio;
using Vmm.Plugins.VirtioFs.Fuse;
using Vmm.Testing.VhostUser;
using Vmm.VhostUser;

namespace Vmm.Plugins.VirtioFs.Tests;

/// <summary>
/// Served over vhost-user (QEMU's vhost-user-fs-pci front-end, played here by <see cref="VhostUserFrontend"/>), a
/// device configured with a DAX window gets none: QEMU maps no back-end shared memory, so the server must not agree
/// MAP_ALIGNMENT (a 6.1 guest then refuses <c>-o dax</c> and mounts without it) and SETUPMAPPING is ENOSYS.
/// </summary>
public sealed class DaxOverVhostUserTests : IDisposable
{
    private const uint MapAlignmentFlag = 1u << 26;
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(10);

    private readonly TempShare _share = new();
    private ulong _unique;

    public void Dispose() => _share.Dispose();

    [Fact]
    public async Task OverVhostUserNoWindowIsMappedAndTheSessionRunsWithoutDax()
    {
        File.WriteAllBytes(_share.InShare("f"), new byte[8192]);
        using VirtioFsDevice device = new("fs0", _share.Share, new VirtioFsOptions { Dax = new VirtioFsDaxOptions { WindowSize = 4UL << 20 } },
            NullLoggerFactory.Instance, meterFactory: null);
        Assert.Single(device.SharedMemoryRegions); // the device asks; the platform decides
        string socket = Path.Combine(Path.GetTempPath(), $"vmm-fs-dax-{Guid.NewGuid():N}.sock");
        using CancellationTokenSource stop = new();
        await using VhostUserServer server = new(socket, device);
        Task running = server.RunAsync(stop.Token);
        try
        {
            using VhostUserFrontend frontend = VhostUserFrontend.Connect(socket);
            frontend.Negotiate();
            frontend.StartQueue(0, 16);
            VhostUserFrontendQueue requests = frontend.StartQueue(1, 16);

            (int error, byte[] init) = Send(frontend, requests, FuseOpcode.Init, 0,
                new FuseArgsBuilder().U32(7).U32(37).U32(128 * 1024).U32(0x7FFF_FFFB).U32(0).Zeros(44).ToArray());
            Assert.Equal(0, error);
            Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(init.AsSpan(12)) & MapAlignmentFlag);
            Assert.Equal(0, BinaryPrimitives.ReadUInt16LittleEndian(init.AsSpan(30)));
            Assert.False(device.HasDaxWindow);

            (error, byte[] entry) = Send(frontend, requests, FuseOpcode.Lookup, 1, new FuseArgsBuilder().Name("f").ToArray());
            Assert.Equal(0, error);
            ulong node = BinaryPrimitives.ReadUInt64LittleEndian(entry);
            (error, _) = Send(frontend, requests, FuseOpcode.SetupMapping, node,
                new FuseArgsBuilder().U64(ulong.MaxValue).U64(0).U64(2UL << 20).U64(3).U64(0).ToArray());
            Assert.Equal(-Errno.ENOSYS, error);
        }
        finally
        {
            await stop.CancelAsync();
            await running.WaitAsync(s_timeout, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>One FUSE request as 6.1 lays it out (header, args; out-header, out-args); returns the error and out-args.</summary>
    private (int Error, byte[] Payload) Send(VhostUserFrontend frontend, VhostUserFrontendQueue queue, FuseOpcode opcode, ulong nodeId, byte[] args)
    {
        ulong header = frontend.Allocator.Allocate(40, 8);
        ulong input = frontend.Allocator.Allocate((ulong)Math.Max(args.Length, 1), 8);
        ulong outHeader = frontend.Allocator.Allocate(16, 8);
        ulong output = frontend.Allocator.Allocate(4096, 8);
        byte[] request = new byte[40];
        BinaryPrimitives.WriteUInt32LittleEndian(request, (uint)(40 + args.Length));
        BinaryPrimitives.WriteUInt32LittleEndian(request.AsSpan(4), (uint)opcode);
        BinaryPrimitives.WriteUInt64LittleEndian(request.AsSpan(8), _unique += 2);
        BinaryPrimitives.WriteUInt64LittleEndian(request.AsSpan(16), nodeId);
        frontend.Memory.Write(header, request);
        frontend.Memory.Write(input, args);
        queue.Post([new GuestBuffer(header, 40), new GuestBuffer(input, (uint)args.Length)], [new GuestBuffer(outHeader, 16), new GuestBuffer(output, 4096)]);
        Assert.True(queue.WaitForUsed(s_timeout, out _, out _), $"{opcode} was not answered");
        byte[] reply = new byte[16];
        frontend.Memory.Read(outHeader, reply);
        Assert.Equal(_unique, BinaryPrimitives.ReadUInt64LittleEndian(reply.AsSpan(8)));
        byte[] payload = new byte[BinaryPrimitives.ReadUInt32LittleEndian(reply) - 16];
        frontend.Memory.Read(output, payload);
        return (BinaryPrimitives.ReadInt32LittleEndian(reply.AsSpan(4)), payload);
    }
}
