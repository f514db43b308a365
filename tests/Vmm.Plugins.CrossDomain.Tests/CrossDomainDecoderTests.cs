using System.Buffers.Binary;
using Vmm.Plugins.CrossDomain.Protocol;

namespace Vmm.Plugins.CrossDomain.Tests;

/// <summary>The wire layout against libkrun's numbers, and the decoder on good, concatenated and hostile streams.</summary>
public sealed class CrossDomainDecoderTests
{
    [Fact]
    public void The_layout_matches_libkrun_with_28_identifiers()
    {
        Assert.Equal((16, 128, 240, 352), (CrossDomainLayout.SendReceive.Identifiers, CrossDomainLayout.SendReceive.IdentifierTypes, CrossDomainLayout.SendReceive.IdentifierSizes, CrossDomainLayout.SendReceive.Data));
        Assert.Equal(3744, CrossDomainLayout.MaxMessageData);
        Assert.Equal((24, 32, 16, 64), (CrossDomainLayout.ReadWrite.Data, CrossDomainLayout.FutexNew.Size, CrossDomainLayout.IdCommand.Size, CrossDomainLayout.ImageRequirements.Size));
        Assert.Equal((8, 9, 10, 11), ((int)CrossDomainCommandType.FutexNew, (int)CrossDomainCommandType.FutexSignal, (int)CrossDomainCommandType.FutexDestroy, (int)CrossDomainCommandType.ReadEventfdNew));
        Assert.Equal((5u, 6u), ((uint)CrossDomainIdentifierType.Shm, (uint)CrossDomainIdentifierType.Eventfd));
    }

    [Fact]
    public void Init_decodes_in_its_three_sizes_and_commands_concatenate()
    {
        byte[] v1 = CrossDomainCommands.Init(3, 4, 0x11);
        byte[] v0 = Command(1, 20, (8, 3), (12, 4), (16, 1));
        byte[] legacy = Command(1, 16, (8, 3), (12, 0x11));
        byte[] poll = Command(3, 16);
        var commands = new List<CrossDomainCommand>();
        Assert.True(CrossDomainDecoder.TryDecode([.. v1, .. v0, .. legacy, .. poll], commands, out _));
        Assert.Equal(
            [new InitCommand(3, 4, 0x11, 1), new InitCommand(3, 4, 1, 0), new InitCommand(3, 3, 0x11, 0), new PollCommand()],
            commands);
    }

    [Fact]
    public void Send_write_and_futex_commands_carry_their_fields()
    {
        byte[] send = CrossDomainCommands.SendMessage("xyz"u8, [(9, 1), (0x8000_0001, 3)]);
        byte[] write = Command(7, 24 + 8, (8, 6), (12, 1), (16, 5));
        write[24] = 0xAB;
        byte[] futex = Command(8, 32, (24, 77));
        BinaryPrimitives.WriteUInt64LittleEndian(futex.AsSpan(8), 0x1_0000_0002);
        BinaryPrimitives.WriteUInt64LittleEndian(futex.AsSpan(16), 42);
        var commands = new List<CrossDomainCommand>();
        byte[] stream = [.. send, .. write, .. futex, .. Command(9, 16, (8, 77)), .. Command(11, 16, (8, 6))];
        Assert.True(CrossDomainDecoder.TryDecode(stream, commands, out _));

        // SEND's and WRITE's data are ranges of the stream (not copies), each at its own command's offset.
        var decodedSend = Assert.IsType<SendCommand>(commands[0]);
        Assert.Equal([new CrossDomainIdentifier(9, 1), new CrossDomainIdentifier(0x8000_0001, 3)], decodedSend.Identifiers);
        Assert.Equal("xyz"u8.ToArray(), stream[decodedSend.Data]);
        var decodedWrite = Assert.IsType<WriteCommand>(commands[1]);
        Assert.Equal((6u, true), (decodedWrite.Identifier, decodedWrite.HangUp));
        Assert.Equal([0xAB, 0, 0, 0, 0], stream[decodedWrite.Data]);
        Assert.Equal(send.Length + 24, decodedWrite.Data.Start.Value);
        Assert.Equal(new FutexNewCommand(0x1_0000_0002, 42, 77), commands[2]);
        Assert.Equal(new FutexSignalCommand(77), commands[3]);
        Assert.Equal(new ReadEventfdNewCommand(6), commands[4]);
    }

    [Fact]
    public void A_send_as_long_as_cmd_size_allows_decodes_whole()
    {
        // A SEND is bounded by its 16-bit cmd_size, not by the 4 KiB channel ring that bounds RECEIVE.
        byte[] data = [.. Enumerable.Range(0, CrossDomainCommands.MaxSendData).Select(i => (byte)i)];
        byte[] stream = [.. Command(3, 16), .. CrossDomainCommands.SendMessage(data, [])];
        var commands = new List<CrossDomainCommand>();

        Assert.True(CrossDomainDecoder.TryDecode(stream, commands, out CrossDomainError error), error.Detail);

        Assert.Equal(ushort.MaxValue, CrossDomainCommands.SendDataOffset + CrossDomainCommands.MaxSendData);
        Assert.Equal(data, stream[Assert.IsType<SendCommand>(commands[1]).Data]);
    }

    public static TheoryData<string, byte[], string> Hostile() => new()
    {
        { "half a header", [1, 0, 8], nameof(CrossDomainErrorKind.Truncated) },
        { "cmd_size 0", Command(3, 16, (0, 3)).Select((b, i) => i is 2 or 3 ? (byte)0 : b).ToArray(), nameof(CrossDomainErrorKind.BadCommandSize) },
        { "cmd_size past the stream", [.. Command(3, 16)[..2], 0x40, 0, 0, 0, 0, 0], nameof(CrossDomainErrorKind.Truncated) },
        { "unknown command", Command(200, 16), nameof(CrossDomainErrorKind.UnknownCommand) },
        { "RECEIVE from the guest", Command(5, 352), nameof(CrossDomainErrorKind.UnknownCommand) },
        { "READ from the guest", Command(6, 24), nameof(CrossDomainErrorKind.UnknownCommand) },
        { "INIT of 28 bytes", Command(1, 28), nameof(CrossDomainErrorKind.BadCommandSize) },
        { "short POLL", Command(3, 12), nameof(CrossDomainErrorKind.BadCommandSize) },
        { "short image requirements", Command(2, 20), nameof(CrossDomainErrorKind.BadCommandSize) },
        { "SEND shorter than its header", Command(4, 64), nameof(CrossDomainErrorKind.BadCommandSize) },
        { "SEND with 29 identifiers", Command(4, 352, (8, 29)), nameof(CrossDomainErrorKind.OutOfRange) },
        { "SEND data past cmd_size", Command(4, 356, (12, 5)), nameof(CrossDomainErrorKind.OutOfRange) },
        { "WRITE data past cmd_size", Command(7, 24, (16, 0xFFFF_FFFF)), nameof(CrossDomainErrorKind.OutOfRange) },
        { "short FUTEX_NEW", Command(8, 24), nameof(CrossDomainErrorKind.BadCommandSize) },
    };

    [Theory]
    [MemberData(nameof(Hostile))]
    public void Hostile_streams_are_typed_errors(string what, byte[] stream, string kind)
    {
        Assert.False(CrossDomainDecoder.TryDecode(stream, [], out CrossDomainError error), what);
        Assert.Equal(kind, error.Kind.ToString());
    }

    [Fact]
    public void Random_streams_decode_or_fail_without_throwing()
    {
        var random = new Random(5);
        var commands = new List<CrossDomainCommand>();
        for (int i = 0; i < 20_000; i++)
        {
            byte[] stream = new byte[random.Next(0, 600)];
            random.NextBytes(stream);
            if (stream.Length >= 4 && random.Next(2) == 0)
            {
                // Plausible headers reach the per-command checks.
                stream[0] = (byte)random.Next(0, 14);
                BinaryPrimitives.WriteUInt16LittleEndian(stream.AsSpan(2), (ushort)random.Next(0, stream.Length + 8));
            }

            commands.Clear();
            if (CrossDomainDecoder.TryDecode(stream, commands, out CrossDomainError error))
            {
                Assert.True(stream.Length == 0 || commands.Count > 0);
            }
            else
            {
                Assert.False(string.IsNullOrEmpty(error.Detail));
            }
        }
    }

    private static byte[] Command(byte type, int size, params (int Offset, uint Value)[] fields)
    {
        byte[] bytes = new byte[size];
        bytes[0] = type;
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(2), (ushort)size);
        foreach ((int offset, uint value) in fields)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(offset), value);
        }

        return bytes;
    }
}
