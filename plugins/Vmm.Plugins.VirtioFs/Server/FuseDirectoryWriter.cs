using System.Runtime.InteropServices;

namespace Vmm.Plugins.VirtioFs.Server;

/// <summary>
/// Encodes a READDIR or READDIRPLUS reply: fuse_dirent records (names padded to 8 bytes), each behind a
/// fuse_entry_out for PLUS. The file system asks <see cref="Fits"/> before it looks a name up, so no lookup is
/// counted for a record that the reply has no room for.
/// </summary>
internal ref struct FuseDirectoryWriter
{
    private readonly Span<byte> _reply;

    public FuseDirectoryWriter(Span<byte> reply, bool plus)
    {
        _reply = reply;
        IsPlus = plus;
        Length = 0;
    }

    /// <summary>Whether each record carries an entry (READDIRPLUS).</summary>
    public bool IsPlus { get; }

    /// <summary>The bytes written so far.</summary>
    public int Length { get; private set; }

    /// <summary>Whether a record for a name of <paramref name="nameLength"/> bytes still fits.</summary>
    public readonly bool Fits(int nameLength) => Length + RecordSize(nameLength) <= _reply.Length;

    /// <summary>
    /// Adds one record: <paramref name="nextOffset"/> is the cookie a READDIR resumes after it; <paramref name="entry"/>
    /// is written only for PLUS. Call <see cref="Fits"/> first; a record that does not fit throws.
    /// </summary>
    public void Add(ulong inode, ulong nextOffset, byte type, ReadOnlySpan<byte> name, in FuseEntry entry)
    {
        int recordSize = RecordSize(name.Length);
        Span<byte> record = _reply.Slice(Length, recordSize);
        record.Clear();
        if (IsPlus)
        {
            FuseSession.WriteEntryOut(record, entry);
            record = record[FuseProtocol.EntryOutSize..];
        }

        MemoryMarshal.Write(record, new FuseDirent { Inode = inode, Offset = nextOffset, NameLength = (uint)name.Length, Type = type });
        name.CopyTo(record[FuseProtocol.DirentHeaderSize..]);
        Length += recordSize;
    }

    private readonly int RecordSize(int nameLength)
    {
        int direntSize = (FuseProtocol.DirentHeaderSize + nameLength + 7) & ~7;
        return IsPlus ? FuseProtocol.EntryOutSize + direntSize : direntSize;
    }
}
