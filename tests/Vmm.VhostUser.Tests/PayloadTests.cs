using System.Buffers.Binary;
using Vmm.VhostUser.Protocol;

namespace Vmm.VhostUser.Tests;

public sealed class PayloadTests
{
    [Fact]
    public void U64_payload_must_be_exactly_eight_bytes()
    {
        using VhostUserMessage message = Message(VhostUserRequest.SetFeatures, new byte[7]);
        Assert.Throws<VhostUserProtocolException>(() => VhostUserPayloads.ReadUInt64(message));
        using VhostUserMessage good = Message(VhostUserRequest.SetFeatures, [1, 0, 0, 0, 0, 0, 0, 0x80]);
        Assert.Equal(0x8000000000000001UL, VhostUserPayloads.ReadUInt64(good));
    }

    [Fact]
    public void Vring_address_is_decoded_in_wire_order()
    {
        byte[] bytes = new byte[VringAddress.Length];
        new VringAddress(1, 0, 0x1000, 0x3000, 0x2000, 0).Write(bytes);
        using VhostUserMessage message = Message(VhostUserRequest.SetVringAddr, bytes);
        Assert.Equal(new VringAddress(1, 0, 0x1000, 0x3000, 0x2000, 0), VhostUserPayloads.ReadVringAddress(message));
        using VhostUserMessage shorter = Message(VhostUserRequest.SetVringAddr, bytes.AsSpan(0, 39).ToArray());
        Assert.Throws<VhostUserProtocolException>(() => VhostUserPayloads.ReadVringAddress(shorter));
    }

    [Theory]
    [InlineData(0u, 8)]
    [InlineData(9u, 8 + (9 * 32))]
    [InlineData(2u, 8 + 32)]
    [InlineData(1u, 8 + 64)]
    public void Memory_table_with_wrong_count_or_length_is_rejected(uint count, int length)
    {
        byte[] bytes = new byte[length];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, count);
        using VhostUserMessage message = Message(VhostUserRequest.SetMemTable, bytes);
        Assert.Throws<VhostUserProtocolException>(() => VhostUserPayloads.ReadMemoryTable(message));
    }

    [Fact]
    public void Memory_table_without_matching_descriptors_is_rejected()
    {
        byte[] bytes = new byte[8 + 32];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, 1);
        using VhostUserMessage message = Message(VhostUserRequest.SetMemTable, bytes);
        Assert.Throws<VhostUserProtocolException>(() => VhostUserPayloads.ReadMemoryTable(message));
    }

    [Theory]
    [InlineData(0u, 4u, 12 + 4, 4)]
    [InlineData(0u, 8u, 12 + 4, 16)]
    [InlineData(uint.MaxValue, 4u, 12 + 4, 16)]
    [InlineData(0u, 300u, 12 + 300, 1024)]
    public void Config_access_outside_the_payload_or_config_space_is_rejected(uint offset, uint size, int length, int configSize)
    {
        if (offset == 0 && size == 4 && configSize == 4)
        {
            // The one valid case: proves the reader accepts what it should.
            byte[] ok = new byte[length];
            BinaryPrimitives.WriteUInt32LittleEndian(ok.AsSpan(4), size);
            using VhostUserMessage good = Message(VhostUserRequest.GetConfig, ok);
            Assert.Equal((0, 4, 0u), VhostUserPayloads.ReadConfigHeader(good, configSize));
            return;
        }

        byte[] bytes = new byte[length];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, offset);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), size);
        using VhostUserMessage message = Message(VhostUserRequest.GetConfig, bytes);
        Assert.Throws<VhostUserProtocolException>(() => VhostUserPayloads.ReadConfigHeader(message, configSize));
    }

    private static VhostUserMessage Message(VhostUserRequest request, byte[] payload)
    {
        var message = new VhostUserMessage { Header = new VhostUserHeader(request, VhostUserHeader.Version, (uint)payload.Length) };
        payload.CopyTo(message.PayloadBuffer);
        return message;
    }
}
