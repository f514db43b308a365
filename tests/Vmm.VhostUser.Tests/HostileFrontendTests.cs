using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Vmm.Contracts.Virtio;
using Vmm.Interop;
using Vmm.Testing.VhostUser;
using Vmm.VhostUser.Protocol;

namespace Vmm.VhostUser.Tests;

/// <summary>
/// A front-end that breaks the protocol loses its connection; the server survives and serves the next one.
/// </summary>
public sealed class HostileFrontendTests
{
    private const string ShortHeader = "short header, then gone";

    public static TheoryData<string> Cases => [.. s_cases.Keys];

    private static readonly Dictionary<string, Action<VhostUserFrontend>> s_cases = new()
    {
        [ShortHeader] = f => f.Channel.SendRaw([1, 0, 0, 0, 1, 0, 0]),
        ["SET_FEATURES with 4 payload bytes"] = f => f.Send(VhostUserRequest.SetFeatures, new byte[4]),
        ["GET_FEATURES with a payload"] = f => f.Send(VhostUserRequest.GetFeatures, new byte[8]),
        ["unoffered feature"] = f => f.Send(VhostUserRequest.SetFeatures, U64(1UL << 50)),
        ["unknown request"] = f => f.Send((VhostUserRequest)99, []),
        ["reply flag from the front-end"] = f => f.Channel.Send(new VhostUserHeader(VhostUserRequest.SetOwner, VhostUserHeader.Version | VhostUserHeader.ReplyFlag, 0), []),
        ["vring index out of range"] = f => f.Send(VhostUserRequest.SetVringNum, State(5, 16)),
        ["vring size not a power of two"] = f => f.Send(VhostUserRequest.SetVringNum, State(0, 24)),
        ["vring size above the maximum"] = f => f.Send(VhostUserRequest.SetVringNum, State(0, 1024)),
        ["vring base above 16 bits"] = f => f.Send(VhostUserRequest.SetVringBase, State(0, 70000)),
        ["kick index out of range"] = f => f.Send(VhostUserRequest.SetVringKick, U64(7 | VhostUserPayloads.InvalidDescriptorFlag)),
        ["kick without its descriptor"] = f => f.Send(VhostUserRequest.SetVringKick, U64(0)),
        ["enable value 2"] = f => f.Send(VhostUserRequest.SetVringEnable, State(0, 2)),
        ["memory table with 9 regions"] = f => f.Send(VhostUserRequest.SetMemTable, MemoryTable(9)),
        ["memory table without descriptors"] = f => f.Send(VhostUserRequest.SetMemTable, MemoryTable(1)),
        ["too many descriptors"] = SendTooManyDescriptors,
        ["ring addresses outside the memory table"] = StartRingOutsideMemory,
        ["ring overlapping the end of memory"] = StartRingAtEndOfMemory,
        ["SET_CONFIG without the CONFIG protocol feature"] = f => f.Send(VhostUserRequest.SetConfig, new byte[16]),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Violation_closes_the_connection_and_the_server_goes_on(string name)
    {
        var device = new EchoDevice();
        await using var server = new RunningServer(device);
        using (VhostUserFrontend hostile = VhostUserFrontend.Connect(server.SocketPath))
        {
            try
            {
                s_cases[name](hostile);
            }
            catch (VhostUserProtocolException)
            {
                // The back-end rejected a request that asked for REPLY_ACK; it must still close the connection.
            }

            if (name != ShortHeader)
            {
                AssertClosedByBackend(hostile.Channel);
            }

            // A short header only shows as such when the front-end goes away in the middle of the message.
        }

        server.WaitForCompletedConnections(1);
        using VhostUserFrontend good = VhostUserFrontend.Connect(server.SocketPath);
        good.Negotiate();
        VhostUserFrontendQueue queue = good.StartQueue(0, 8);
        ulong output = good.Allocator.Allocate(8, 8);
        ulong input = good.Allocator.Allocate(8, 8);
        good.Memory.Write(input, "ok"u8);
        queue.Post([new GuestBuffer(input, 2)], [new GuestBuffer(output, 8)]);
        Assert.True(queue.WaitForUsed(TimeSpan.FromSeconds(10), out _, out uint length));
        Assert.Equal(2u, length);
    }

    private static void AssertClosedByBackend(VhostUserChannel channel)
    {
        using var message = new VhostUserMessage();
        for (int i = 0; i < 4; i++)
        {
            ReadOnlySpan<SafeHandle> socket = [channel.Handle];
            Assert.True(UnixSocketMessaging.WaitAny(socket, 10_000) != 0, "The back-end neither answered nor closed the connection.");
            try
            {
                if (!channel.Receive(message))
                {
                    return;
                }
            }
            catch (NativeCallException)
            {
                return;
            }
            catch (VhostUserProtocolException)
            {
                return;
            }
        }

        Assert.Fail("The back-end kept the connection open.");
    }

    private static void SendTooManyDescriptors(VhostUserFrontend frontend)
    {
        using SafeFileHandle file = File.OpenHandle("/dev/null", FileMode.Open, FileAccess.Read);
        var handles = new SafeHandle[VhostUserChannel.MaxDescriptors + 1];
        Array.Fill(handles, file);
        frontend.Send(VhostUserRequest.SetVringCall, U64(0), handles);
    }

    private static void StartRingOutsideMemory(VhostUserFrontend frontend)
    {
        frontend.Negotiate();
        frontend.Send(VhostUserRequest.SetVringNum, State(0, 8));
        byte[] address = new byte[VringAddress.Length];
        new VringAddress(0, 0, 0xdead0000, 0xdead1000, 0xdead2000, 0).Write(address);
        frontend.Send(VhostUserRequest.SetVringAddr, address);
        SendKickAndEnable(frontend);
    }

    private static void StartRingAtEndOfMemory(VhostUserFrontend frontend)
    {
        frontend.Negotiate();
        frontend.Send(VhostUserRequest.SetVringNum, State(0, 64));
        // The descriptor table starts inside memory but its 1 KiB runs past the end.
        ulong last = frontend.UserAddress(frontend.Memory.Regions[^1].End - 16);
        byte[] address = new byte[VringAddress.Length];
        new VringAddress(0, 0, last, frontend.UserAddress(0x1000), frontend.UserAddress(0x2000), 0).Write(address);
        frontend.Send(VhostUserRequest.SetVringAddr, address);
        SendKickAndEnable(frontend);
    }

    private static void SendKickAndEnable(VhostUserFrontend frontend)
    {
        using SafeFileHandle kick = HostEventFd.Create(nonBlocking: true);
        frontend.Send(VhostUserRequest.SetVringKick, U64(0), [kick]);
        frontend.Send(VhostUserRequest.SetVringEnable, State(0, 1));
    }

    private static byte[] U64(ulong value)
    {
        byte[] bytes = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
        return bytes;
    }

    private static byte[] State(uint index, uint number)
    {
        byte[] bytes = new byte[VringState.Length];
        new VringState(index, number).Write(bytes);
        return bytes;
    }

    private static byte[] MemoryTable(uint count)
    {
        byte[] bytes = new byte[8 + (count * MemoryRegionDescription.Length)];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, count);
        return bytes;
    }
}
