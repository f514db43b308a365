using System.Buffers.Binary;
using static Vmm.Plugins.CrossDomain.Testing.CrossDomainCommands;

namespace Vmm.Plugins.CrossDomain.Testing;

/// <summary>Decodes what the host writes into the channel ring (RECEIVE and READ), checking every length against the message.</summary>
public static class ChannelMessage
{
    /// <summary>A RECEIVE: stream bytes and the identifiers (id, type, size) that came with them.</summary>
    public sealed record Receive((uint Id, uint Type, uint Size)[] Identifiers, byte[] Data);

    /// <summary>A READ: data from a pipe or eventfd the host polls, or its hang-up.</summary>
    public sealed record Read(uint Id, bool HangUp, byte[] Data);

    /// <summary>Decodes a RECEIVE.</summary>
    /// <exception cref="CrossDomainGuestException">The counts do not fit the message.</exception>
    public static Receive ParseReceive(ReadOnlySpan<byte> message)
    {
        if (message.Length < SendDataOffset)
        {
            throw new CrossDomainGuestException($"a RECEIVE of {message.Length} bytes is shorter than its header");
        }

        uint count = BinaryPrimitives.ReadUInt32LittleEndian(message[8..]);
        uint size = BinaryPrimitives.ReadUInt32LittleEndian(message[12..]);
        if (count > MaxIdentifiers || size > message.Length - SendDataOffset)
        {
            throw new CrossDomainGuestException($"a RECEIVE claims {count} identifiers and {size} bytes in a {message.Length}-byte message");
        }

        var identifiers = new (uint, uint, uint)[count];
        for (int i = 0; i < count; i++)
        {
            identifiers[i] = (
                BinaryPrimitives.ReadUInt32LittleEndian(message[(16 + (4 * i))..]),
                BinaryPrimitives.ReadUInt32LittleEndian(message[(128 + (4 * i))..]),
                BinaryPrimitives.ReadUInt32LittleEndian(message[(240 + (4 * i))..]));
        }

        return new Receive(identifiers, message.Slice(SendDataOffset, (int)size).ToArray());
    }

    /// <summary>Decodes a READ.</summary>
    public static Read ParseRead(ReadOnlySpan<byte> message)
    {
        uint size = message.Length < 24 ? uint.MaxValue : BinaryPrimitives.ReadUInt32LittleEndian(message[16..]);
        if (size > message.Length - 24)
        {
            throw new CrossDomainGuestException($"a READ claims {size} bytes in a {message.Length}-byte message");
        }

        return new Read(BinaryPrimitives.ReadUInt32LittleEndian(message[8..]), BinaryPrimitives.ReadUInt32LittleEndian(message[12..]) != 0, message.Slice(24, (int)size).ToArray());
    }
}
