using System.Buffers.Binary;
using static Vmm.Plugins.CrossDomain.Protocol.CrossDomainLayout;

namespace Vmm.Plugins.CrossDomain.Protocol;

/// <summary>
/// Decodes a SUBMIT_3D command stream (several commands, each advanced by its header's cmd_size) into typed
/// commands, or the first error. Every length is checked before it is used: a hostile stream yields an error.
/// </summary>
internal static class CrossDomainDecoder
{
    /// <summary>Decodes every command of <paramref name="stream"/>; on error, <paramref name="commands"/> holds those before it.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> stream, List<CrossDomainCommand> commands, out CrossDomainError error)
    {
        ArgumentNullException.ThrowIfNull(commands);
        int offset = 0;
        while (offset < stream.Length)
        {
            ReadOnlySpan<byte> rest = stream[offset..];
            if (rest.Length < Header.Size)
            {
                error = new(CrossDomainErrorKind.Truncated, $"{rest.Length} bytes at offset {offset} are not a command header");
                return false;
            }

            int size = BinaryPrimitives.ReadUInt16LittleEndian(rest[Header.CommandSize..]);
            if (size < Header.Size)
            {
                error = new(CrossDomainErrorKind.BadCommandSize, $"cmd_size {size} at offset {offset} is smaller than a header");
                return false;
            }

            if (size > rest.Length)
            {
                error = new(CrossDomainErrorKind.Truncated, $"cmd_size {size} at offset {offset} runs past the {stream.Length}-byte stream");
                return false;
            }

            if (!TryDecodeOne(rest[..size], out CrossDomainCommand? command, out error, offset))
            {
                error = error with { Detail = $"{error.Detail} (command at offset {offset})" };
                return false;
            }

            commands.Add(command!);
            offset += size;
        }

        error = default;
        return true;
    }

    /// <summary>
    /// Decodes one command whose header's cmd_size is <paramref name="command"/>'s length; the data ranges of SEND
    /// and WRITE are in the stream the command is at <paramref name="offsetInStream"/> of.
    /// </summary>
    public static bool TryDecodeOne(ReadOnlySpan<byte> command, out CrossDomainCommand? decoded, out CrossDomainError error, int offsetInStream = 0)
    {
        decoded = null;
        var type = (CrossDomainCommandType)command[Header.Command];
        switch (type)
        {
            case CrossDomainCommandType.Init:
                return DecodeInit(command, out decoded, out error);
            case CrossDomainCommandType.GetImageRequirements:
                if (!HasSize(command, GetImageRequirements.Size, type, out error))
                {
                    return false;
                }

                decoded = new GetImageRequirementsCommand(
                    U32(command, GetImageRequirements.Width),
                    U32(command, GetImageRequirements.Height),
                    U32(command, GetImageRequirements.DrmFormat),
                    U32(command, GetImageRequirements.Flags));
                return true;
            case CrossDomainCommandType.Poll:
                if (!HasSize(command, Poll.Size, type, out error))
                {
                    return false;
                }

                decoded = new PollCommand();
                return true;
            case CrossDomainCommandType.Send:
                return DecodeSend(command, offsetInStream, out decoded, out error);
            case CrossDomainCommandType.Write:
                return DecodeWrite(command, offsetInStream, out decoded, out error);
            case CrossDomainCommandType.FutexNew:
                if (!HasSize(command, FutexNew.Size, type, out error))
                {
                    return false;
                }

                decoded = new FutexNewCommand(U64(command, FutexNew.FsId), U64(command, FutexNew.Handle), U32(command, FutexNew.Id));
                return true;
            case CrossDomainCommandType.FutexSignal or CrossDomainCommandType.FutexDestroy or CrossDomainCommandType.ReadEventfdNew:
                if (!HasSize(command, IdCommand.Size, type, out error))
                {
                    return false;
                }

                uint id = U32(command, IdCommand.Id);
                decoded = type switch
                {
                    CrossDomainCommandType.FutexSignal => new FutexSignalCommand(id),
                    CrossDomainCommandType.FutexDestroy => new FutexDestroyCommand(id),
                    _ => new ReadEventfdNewCommand(id),
                };
                return true;
            default:
                // RECEIVE and READ are host-to-guest only; READ_EVENTFD_DESTROY is defined but libkrun never handles it.
                error = new(CrossDomainErrorKind.UnknownCommand, $"command {(byte)type} is not a guest-to-host command");
                return false;
        }
    }

    private static bool DecodeInit(ReadOnlySpan<byte> command, out CrossDomainCommand? decoded, out CrossDomainError error)
    {
        decoded = null;
        switch (command.Length)
        {
            case Init.SizeV1:
                decoded = new InitCommand(U32(command, Init.QueryRingId), U32(command, Init.ChannelRingId), U32(command, Init.ChannelType), U32(command, Init.ProtocolVersion));
                break;
            case Init.SizeV0:
                decoded = new InitCommand(U32(command, Init.QueryRingId), U32(command, Init.ChannelRingId), U32(command, Init.ChannelType), 0);
                break;
            case Init.LegacySize:
                uint ring = U32(command, Init.QueryRingId);
                decoded = new InitCommand(ring, ring, U32(command, Init.LegacyChannelType), 0);
                break;
            default:
                error = new(CrossDomainErrorKind.BadCommandSize, $"INIT of {command.Length} bytes (16, 20 or 24)");
                return false;
        }

        error = default;
        return true;
    }

    private static bool DecodeSend(ReadOnlySpan<byte> command, int offsetInStream, out CrossDomainCommand? decoded, out CrossDomainError error)
    {
        decoded = null;
        if (!HasSize(command, SendReceive.Size, CrossDomainCommandType.Send, out error))
        {
            return false;
        }

        uint count = U32(command, SendReceive.IdentifierCount);
        uint dataSize = U32(command, SendReceive.DataSize);
        if (count > MaxIdentifiers)
        {
            error = new(CrossDomainErrorKind.OutOfRange, $"SEND names {count} identifiers (at most {MaxIdentifiers})");
            return false;
        }

        if (dataSize > (uint)(command.Length - SendReceive.Data))
        {
            error = new(CrossDomainErrorKind.OutOfRange, $"SEND carries {dataSize} bytes but its cmd_size leaves {command.Length - SendReceive.Data}");
            return false;
        }

        CrossDomainIdentifier[] identifiers = count == 0 ? [] : new CrossDomainIdentifier[count];
        for (int i = 0; i < identifiers.Length; i++)
        {
            identifiers[i] = new(U32(command, SendReceive.Identifiers + (4 * i)), U32(command, SendReceive.IdentifierTypes + (4 * i)));
        }

        decoded = new SendCommand(identifiers, DataRange(offsetInStream + SendReceive.Data, dataSize));
        return true;
    }

    private static bool DecodeWrite(ReadOnlySpan<byte> command, int offsetInStream, out CrossDomainCommand? decoded, out CrossDomainError error)
    {
        decoded = null;
        if (!HasSize(command, ReadWrite.Size, CrossDomainCommandType.Write, out error))
        {
            return false;
        }

        uint dataSize = U32(command, ReadWrite.DataSize);
        if (dataSize > (uint)(command.Length - ReadWrite.Data))
        {
            error = new(CrossDomainErrorKind.OutOfRange, $"WRITE carries {dataSize} bytes but its cmd_size leaves {command.Length - ReadWrite.Data}");
            return false;
        }

        decoded = new WriteCommand(U32(command, ReadWrite.Identifier), U32(command, ReadWrite.HangUp) != 0, DataRange(offsetInStream + ReadWrite.Data, dataSize));
        return true;
    }

    // dataSize was checked against the command's length, which cmd_size (16 bits) bounds.
    private static Range DataRange(int start, uint dataSize) => new(start, start + (int)dataSize);

    private static bool HasSize(ReadOnlySpan<byte> command, int size, CrossDomainCommandType type, out CrossDomainError error)
    {
        if (command.Length < size)
        {
            error = new(CrossDomainErrorKind.BadCommandSize, $"{type} of {command.Length} bytes (at least {size})");
            return false;
        }

        error = default;
        return true;
    }

    private static uint U32(ReadOnlySpan<byte> bytes, int offset) => BinaryPrimitives.ReadUInt32LittleEndian(bytes[offset..]);

    private static ulong U64(ReadOnlySpan<byte> bytes, int offset) => BinaryPrimitives.ReadUInt64LittleEndian(bytes[offset..]);
}
