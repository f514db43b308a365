using System.Buffers.Binary;
using Vmm.Contracts.Virtio;
using Vmm.Plugins.VirtioFs.Fuse;

namespace Vmm.Plugins.VirtioFs.Tests;

/// <summary>
/// Hiprio (FORGET, BATCH_FORGET, INTERRUPT) is served while a request queue is stuck in a request, and request
/// queues do not wait for each other (virtio 1.2 §5.11.6.1: request work must not block hiprio).
/// </summary>
public sealed class QueueIsolationTests : IDisposable
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(10);

    private readonly TempShare _share = new();

    public void Dispose() => _share.Dispose();

    [Fact]
    public void AForgetCompletesWhileTheRequestQueueIsBlocked()
    {
        File.WriteAllText(_share.InShare("slow"), "slow data");
        File.WriteAllText(_share.InShare("other"), "x");
        using FuseTestClient client = FuseTestClient.Start(_share.Share);
        client.Init().Ok();
        ulong slow = client.LookupNode(1, "slow");
        ulong fh = client.Open(slow, 0).Ok().U64(0);
        ulong other = client.LookupNode(1, "other");
        using var entered = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        client.FsDevice.SetRequestHook(opcode =>
        {
            if (opcode == FuseOpcode.Read)
            {
                entered.Set();
                release.Wait(s_timeout);
            }
        });

        // A READ that sits in the server (as a read from a slow host file system would).
        GuestBuffer request = client.Machine.AllocateBuffer(4096);
        GuestBuffer reply = client.Machine.AllocateBuffer(4096);
        byte[] read = Header(FuseOpcode.Read, slow, new FuseArgsBuilder().U64(fh).U64(0).U32(100).U32(0).U64(0).U32(0).U32(0).ToArray());
        client.Machine.Memory.Write(request.Address, read);
        client.Driver.Submit(FuseTestClient.RequestQueue, [new GuestBuffer(request.Address, (uint)read.Length)], [new GuestBuffer(reply.Address, 4096)]);
        Assert.True(entered.Wait(s_timeout, TestContext.Current.CancellationToken), "The READ never reached the server.");

        // FORGET and BATCH_FORGET on hiprio come back while the READ is still held.
        client.Forget(other, 1);
        byte[] batch = new FuseArgsBuilder().U32(1).U32(0).U64(other).U64(1).ToArray();
        Assert.Equal(0u, client.SendRaw(Header(FuseOpcode.BatchForget, 0, batch), 0, FuseTestClient.HiprioQueue).UsedLength);
        Assert.False(client.Driver.GetQueue(FuseTestClient.RequestQueue).TryGetUsed(out _, out _));

        release.Set();
        (_, uint used) = client.Driver.WaitForUsed(FuseTestClient.RequestQueue, s_timeout);
        byte[] answer = new byte[used];
        client.Machine.Memory.Read(reply.Address, answer);
        Assert.Equal(0, BinaryPrimitives.ReadInt32LittleEndian(answer.AsSpan(4)));
        Assert.Equal("slow data", System.Text.Encoding.ASCII.GetString(answer, 16, (int)used - 16));

        // The FORGET really took effect: the node id is gone.
        client.FsDevice.SetRequestHook(null);
        Assert.Equal(-Errno.ENOENT, client.GetAttr(other).Error);
    }

    [Fact]
    public void RequestQueuesDoNotWaitForEachOther()
    {
        File.WriteAllText(_share.InShare("a"), "a");
        using FuseTestClient client = FuseTestClient.Start(_share.Share, new VirtioFsOptions { NumRequestQueues = 2 });
        client.Init().Ok();
        ulong node = client.LookupNode(1, "a");
        using var entered = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        client.FsDevice.SetRequestHook(opcode =>
        {
            if (opcode == FuseOpcode.StatFs)
            {
                entered.Set();
                release.Wait(s_timeout);
            }
        });

        GuestBuffer request = client.Machine.AllocateBuffer(4096);
        GuestBuffer reply = client.Machine.AllocateBuffer(4096);
        byte[] statfs = Header(FuseOpcode.StatFs, 1, []);
        client.Machine.Memory.Write(request.Address, statfs);
        client.Driver.Submit(1, [new GuestBuffer(request.Address, (uint)statfs.Length)], [new GuestBuffer(reply.Address, 4096)]);
        Assert.True(entered.Wait(s_timeout, TestContext.Current.CancellationToken), "The STATFS never reached the server.");

        // Queue 2 answers while queue 1 is held, from the same shared node table.
        FuseReply getattr = client.SendRaw(Header(FuseOpcode.GetAttr, node, new FuseArgsBuilder().U32(0).U32(0).U64(0).ToArray()), 4096, queue: 2);
        Assert.Equal(0, getattr.Error);
        Assert.False(client.Driver.GetQueue(1).TryGetUsed(out _, out _));

        release.Set();
        client.Driver.WaitForUsed(1, s_timeout);
    }

    [Fact]
    public void HiprioRefusesOrdinaryRequests()
    {
        using FuseTestClient client = FuseTestClient.Start(_share.Share);
        client.Init().Ok();
        FuseReply reply = client.SendRaw(Header(FuseOpcode.GetAttr, 1, new FuseArgsBuilder().U32(0).U32(0).U64(0).ToArray()), 4096, FuseTestClient.HiprioQueue);
        Assert.Equal(-Errno.EINVAL, reply.Error);
    }

    [Fact]
    public void AChainOutsideGuestMemoryOnARequestQueueFailsTheDeviceAndAResetRecoversIt()
    {
        using FuseTestClient client = FuseTestClient.Start(_share.Share);
        client.Init().Ok();

        // The notification wakes the queue's thread directly; what that thread meets must still fail the device.
        GuestBuffer reply = client.Machine.AllocateBuffer(4096);
        client.Driver.Submit(FuseTestClient.RequestQueue, [new GuestBuffer(1UL << 40, 64)], [new GuestBuffer(reply.Address, 4096)]);
        Assert.True(
            SpinWait.SpinUntil(() => (client.Driver.ReadStatus() & Vmm.Core.Virtio.Pci.VirtioDeviceStatus.DeviceNeedsReset) != 0, s_timeout),
            $"The device did not ask for a reset (status 0x{client.Driver.ReadStatus():x2}).");

        client.Driver.Reset();
        client.Driver.Initialize();
        client.Init().Ok();
        client.GetAttr(1).Ok();
    }

    private static byte[] Header(FuseOpcode opcode, ulong node, byte[] args)
    {
        byte[] request = new byte[40 + args.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(request, (uint)request.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(request.AsSpan(4), (uint)opcode);
        BinaryPrimitives.WriteUInt64LittleEndian(request.AsSpan(8), 0x1000 + (ulong)opcode);
        BinaryPrimitives.WriteUInt64LittleEndian(request.AsSpan(16), node);
        args.CopyTo(request.AsSpan(40));
        return request;
    }
}
