using System.Buffers.Binary;
using static Vmm.Plugins.CrossDomain.Protocol.CrossDomainLayout;

namespace Vmm.Plugins.CrossDomain.Protocol;

/// <summary>Host-to-guest messages (written at offset 0 of a ring) and the capset, laid out by <see cref="CrossDomainLayout"/>.</summary>
internal static class CrossDomainMessages
{
    /// <summary>Writes the capset: version 1 and the channels the host was configured for.</summary>
    public static int WriteCapabilities(Span<byte> destination, uint supportedChannels)
    {
        Span<byte> caps = destination[..Capabilities.Size];
        caps.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(caps[Capabilities.Version..], Capabilities.ServedVersion);
        BinaryPrimitives.WriteUInt32LittleEndian(caps[Capabilities.SupportedChannels..], supportedChannels);
        return Capabilities.Size;
    }

    /// <summary>Writes RECEIVE with <paramref name="identifiers"/> (id, type, size) and <paramref name="data"/>; returns its length.</summary>
    public static int WriteReceive(Span<byte> destination, ReadOnlySpan<(uint Id, uint Type, uint Size)> identifiers, ReadOnlySpan<byte> data)
    {
        int length = SendReceive.Data + data.Length;
        Span<byte> message = destination[..length];
        message[..SendReceive.Data].Clear();
        WriteHeader(message, CrossDomainCommandType.Receive, length);
        BinaryPrimitives.WriteUInt32LittleEndian(message[SendReceive.IdentifierCount..], (uint)identifiers.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(message[SendReceive.DataSize..], (uint)data.Length);
        for (int i = 0; i < identifiers.Length; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(message[(SendReceive.Identifiers + (4 * i))..], identifiers[i].Id);
            BinaryPrimitives.WriteUInt32LittleEndian(message[(SendReceive.IdentifierTypes + (4 * i))..], identifiers[i].Type);
            BinaryPrimitives.WriteUInt32LittleEndian(message[(SendReceive.IdentifierSizes + (4 * i))..], identifiers[i].Size);
        }

        data.CopyTo(message[SendReceive.Data..]);
        return length;
    }

    /// <summary>Writes READ for <paramref name="identifier"/>; <paramref name="hangUp"/> says the pipe closed.</summary>
    public static int WriteRead(Span<byte> destination, uint identifier, bool hangUp, ReadOnlySpan<byte> data)
    {
        int length = ReadWrite.Data + data.Length;
        Span<byte> message = destination[..length];
        message[..ReadWrite.Data].Clear();
        WriteHeader(message, CrossDomainCommandType.Read, length);
        BinaryPrimitives.WriteUInt32LittleEndian(message[ReadWrite.Identifier..], identifier);
        BinaryPrimitives.WriteUInt32LittleEndian(message[ReadWrite.HangUp..], hangUp ? 1u : 0u);
        BinaryPrimitives.WriteUInt32LittleEndian(message[ReadWrite.DataSize..], (uint)data.Length);
        data.CopyTo(message[ReadWrite.Data..]);
        return length;
    }

    /// <summary>Writes libkrun's FUTEX_SIGNAL for futex <paramref name="id"/> (host to guest: the host word changed).</summary>
    public static int WriteFutexSignal(Span<byte> destination, uint id)
    {
        Span<byte> message = destination[..IdCommand.Size];
        message.Clear();
        WriteHeader(message, CrossDomainCommandType.FutexSignal, IdCommand.Size);
        BinaryPrimitives.WriteUInt32LittleEndian(message[IdCommand.Id..], id);
        return IdCommand.Size;
    }

    /// <summary>Writes the image requirements reply (one plane) for the query ring.</summary>
    public static int WriteImageRequirements(Span<byte> destination, uint stride, ulong size, uint blobId, uint mapInfo)
    {
        Span<byte> reply = destination[..ImageRequirements.Size];
        reply.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(reply[ImageRequirements.Strides..], stride);
        BinaryPrimitives.WriteUInt64LittleEndian(reply[ImageRequirements.ImageSize..], size);
        BinaryPrimitives.WriteUInt32LittleEndian(reply[ImageRequirements.BlobId..], blobId);
        BinaryPrimitives.WriteUInt32LittleEndian(reply[ImageRequirements.MapInfo..], mapInfo);
        BinaryPrimitives.WriteInt32LittleEndian(reply[ImageRequirements.MemoryIndex..], -1);
        BinaryPrimitives.WriteInt32LittleEndian(reply[ImageRequirements.PhysicalDeviceIndex..], -1);
        return ImageRequirements.Size;
    }

    private static void WriteHeader(Span<byte> message, CrossDomainCommandType type, int length)
    {
        message[Header.Command] = (byte)type;
        message[Header.RingIndex] = (byte)ChannelRing;
        // cmd_size is 16 bits: a RECEIVE of 352 + 3744 bytes is 4096, well inside.
        BinaryPrimitives.WriteUInt16LittleEndian(message[Header.CommandSize..], (ushort)length);
    }
}
