using System.Buffers.Binary;

namespace Vmm.Cli.Exec;

/// <summary>
/// The frame types of the exec protocol (tools/guest-agents/vmm-exec-agent/protocol.h, <c>enum exec_frame_type</c>).
/// </summary>
internal enum ExecFrameType : byte
{
    /// <summary>Host to guest: NUL-terminated <c>key=value</c> records (arg=, env=, cwd=, uid=, gid=, tty=1, rows=, cols=).</summary>
    Start = 1,

    /// <summary>Host to guest: stdin bytes; an empty payload closes stdin.</summary>
    Stdin = 2,

    /// <summary>Host to guest: le32 signal number for the command's process group.</summary>
    Signal = 3,

    /// <summary>Host to guest: le16 rows, le16 columns of the pty.</summary>
    Resize = 4,

    /// <summary>Guest to host: le32 pid; the command runs.</summary>
    Started = 16,

    /// <summary>Guest to host: output of stream 1 (stdout or the pty) or 2 (stderr); empty ends the stream.</summary>
    Output = 17,

    /// <summary>Guest to host: le32 kind (0 exited, 1 killed by a signal), le32 code or signal; the last frame.</summary>
    Exit = 18,

    /// <summary>Guest to host: a UTF-8 message; the last frame.</summary>
    Error = 19,
}

/// <summary>
/// <c>struct exec_frame_header</c>: 8 bytes in front of every frame, little endian. Declared once, by field; the
/// agent's C header asserts the same offsets.
/// </summary>
internal readonly record struct ExecFrameHeader(uint Length, ExecFrameType Type, byte Stream)
{
    /// <summary><c>sizeof(struct exec_frame_header)</c>.</summary>
    public const int Size = 8;

    /// <summary>Offset of <c>length</c> (le32): the payload's length.</summary>
    public const int LengthOffset = 0;

    /// <summary>Offset of <c>type</c> (u8).</summary>
    public const int TypeOffset = 4;

    /// <summary>Offset of <c>stream</c> (u8).</summary>
    public const int StreamOffset = 5;

    /// <summary>Offset of <c>reserved</c> (le16, zero).</summary>
    public const int ReservedOffset = 6;

    /// <summary>EXEC_MAX_PAYLOAD: the largest payload either side sends.</summary>
    public const int MaxPayload = 64 * 1024;

    /// <summary>Stream 1: stdout, or the pty.</summary>
    public const byte StandardOutput = 1;

    /// <summary>Stream 2: stderr.</summary>
    public const byte StandardError = 2;

    /// <summary>Reads a header.</summary>
    public static ExecFrameHeader Read(ReadOnlySpan<byte> bytes) => new(
        BinaryPrimitives.ReadUInt32LittleEndian(bytes[LengthOffset..]),
        (ExecFrameType)bytes[TypeOffset],
        bytes[StreamOffset]);

    /// <summary>Writes the header into the first <see cref="Size"/> bytes of <paramref name="bytes"/>.</summary>
    public void Write(Span<byte> bytes)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(bytes[LengthOffset..], Length);
        bytes[TypeOffset] = (byte)Type;
        bytes[StreamOffset] = Stream;
        BinaryPrimitives.WriteUInt16LittleEndian(bytes[ReservedOffset..], 0);
    }
}
