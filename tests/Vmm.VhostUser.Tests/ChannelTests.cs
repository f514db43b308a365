using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Vmm.VhostUser.Protocol;

namespace Vmm.VhostUser.Tests;

public sealed class ChannelTests
{
    [Fact]
    public void Message_with_descriptors_round_trips()
    {
        (var left, var right) = SocketPair.Create();
        using var sender = new VhostUserChannel(left);
        using var receiver = new VhostUserChannel(right);
        string file = Path.GetTempFileName();
        try
        {
            using (SafeFileHandle handle = File.OpenHandle(file, FileMode.Open, FileAccess.ReadWrite))
            {
                byte[] payload = [1, 2, 3, 4, 5, 6, 7, 8];
                sender.Send(new VhostUserHeader(VhostUserRequest.SetVringKick, VhostUserHeader.Version, 8), payload, [handle, handle]);
            }

            using var message = new VhostUserMessage();
            Assert.True(receiver.Receive(message));
            Assert.Equal(VhostUserRequest.SetVringKick, message.Header.Request);
            Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 }, message.Payload.ToArray());
            Assert.Equal(2, message.DescriptorCount);
            using SafeFileHandle received = message.TakeDescriptor(0);
            RandomAccess.Write(received, "hello"u8, 0);
            Assert.Equal("hello", File.ReadAllText(file));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Peer_closing_between_messages_is_end_of_stream()
    {
        (var left, var right) = SocketPair.Create();
        using var receiver = new VhostUserChannel(right);
        left.Dispose();
        using var message = new VhostUserMessage();
        Assert.False(receiver.Receive(message));
    }

    [Fact]
    public void Short_header_then_close_is_a_protocol_error()
    {
        (var left, var right) = SocketPair.Create();
        using var receiver = new VhostUserChannel(right);
        using (var sender = new VhostUserChannel(left))
        {
            sender.SendRaw([1, 0, 0, 0, 1, 0]);
        }

        using var message = new VhostUserMessage();
        Assert.Throws<VhostUserProtocolException>(() => receiver.Receive(message));
    }

    [Fact]
    public void Payload_shorter_than_declared_is_a_protocol_error()
    {
        (var left, var right) = SocketPair.Create();
        using var receiver = new VhostUserChannel(right);
        using (var sender = new VhostUserChannel(left))
        {
            byte[] bytes = new byte[VhostUserHeader.Length + 4];
            new VhostUserHeader(VhostUserRequest.SetFeatures, VhostUserHeader.Version, 8).Write(bytes);
            sender.SendRaw(bytes);
        }

        using var message = new VhostUserMessage();
        Assert.Throws<VhostUserProtocolException>(() => receiver.Receive(message));
    }

    [Theory]
    [InlineData(0u, 8u)]
    [InlineData(2u, 8u)]
    [InlineData(1u, VhostUserHeader.MaxPayloadSize + 1u)]
    [InlineData(1u, uint.MaxValue)]
    public void Bad_version_or_oversize_payload_is_a_protocol_error(uint version, uint size)
    {
        (var left, var right) = SocketPair.Create();
        using var sender = new VhostUserChannel(left);
        using var receiver = new VhostUserChannel(right);
        byte[] bytes = new byte[VhostUserHeader.Length];
        new VhostUserHeader(VhostUserRequest.SetFeatures, version, size).Write(bytes);
        sender.SendRaw(bytes);
        using var message = new VhostUserMessage();
        Assert.Throws<VhostUserProtocolException>(() => receiver.Receive(message));
    }
}

[Collection(ResourceCountingCollection.Name)]
public sealed class TooManyDescriptors
{
    [Fact]
    public void Too_many_descriptors_are_rejected_without_leaking()
    {
        (var left, var right) = SocketPair.Create();
        using var sender = new VhostUserChannel(left);
        using var receiver = new VhostUserChannel(right);
        using SafeFileHandle file = File.OpenHandle("/dev/null", FileMode.Open, FileAccess.Read);
        int before = 0;
        for (int round = 0; round <= ResourceCountingCollection.Rounds; round++)
        {
            if (round == 1)
            {
                before = ProcessResources.OpenDescriptors();
            }

            var handles = new SafeHandle[VhostUserChannel.MaxDescriptors + 4];
            Array.Fill(handles, file);
            byte[] bytes = new byte[VhostUserHeader.Length];
            new VhostUserHeader(VhostUserRequest.SetMemTable, VhostUserHeader.Version, 0).Write(bytes);
            sender.SendRaw(bytes, handles);
            using var message = new VhostUserMessage();
            Assert.Throws<VhostUserProtocolException>(() => receiver.Receive(message));
        }

        Assert.InRange(ProcessResources.OpenDescriptors(), 0, before + ResourceCountingCollection.Slack);
    }
}
