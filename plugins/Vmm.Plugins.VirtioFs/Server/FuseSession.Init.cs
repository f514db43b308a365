using System.Buffers.Binary;
using System.Numerics;
using Vmm.Plugins.VirtioFs.Fuse;

namespace Vmm.Plugins.VirtioFs.Server;

internal sealed partial class FuseSession
{
    private const ushort MaxBackground = 256;

    /// <summary>The init flags this server implements; the reply carries those the kernel also offered.</summary>
    private const ulong ServerFlags = FuseProtocol.AsyncRead | FuseProtocol.BigWrites | FuseProtocol.AutoInvalData
        | FuseProtocol.DoReaddirplus | FuseProtocol.ReaddirplusAuto | FuseProtocol.AsyncDio | FuseProtocol.ParallelDirops
        | FuseProtocol.MaxPagesFlag | FuseProtocol.InitExt;

    /// <summary>
    /// FUSE_INIT starts a new session (a remount sends it again on the same device): everything the previous
    /// session knew is dropped, then versions and flags are agreed.
    /// </summary>
    private int Init(ref FuseArgs args)
    {
        if (!args.TryReadUInt32(out uint major) || !args.TryReadUInt32(out uint minor)
            || !args.TryReadUInt32(out uint maxReadahead) || !args.TryReadUInt32(out uint flags))
        {
            return -Errno.EINVAL;
        }

        EndSession();
        Span<byte> reply = Payload[..FuseProtocol.InitOutSize];
        reply.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(reply, FuseProtocol.KernelMajor);
        BinaryPrimitives.WriteUInt32LittleEndian(reply[4..], FuseProtocol.ServerMinor);
        if (major < FuseProtocol.KernelMajor)
        {
            return -Errno.EPROTO;
        }

        if (major > FuseProtocol.KernelMajor)
        {
            // The kernel will send a new INIT with our major.
            return FuseProtocol.InitOutSize;
        }

        ulong offered = flags;
        if ((offered & FuseProtocol.InitExt) != 0 && args.TryReadUInt32(out uint flags2))
        {
            offered |= (ulong)flags2 << 32;
        }

        // Set-ID bits kept: the guest leaves killing them on write, truncate and chown to us (as virtiofsd asks).
        ulong wanted = ServerFlags | (_window is not null ? FuseProtocol.MapAlignment : 0) | (_keepSetId ? FuseProtocol.HandleKillprivV2 : 0);
        ulong agreed = offered & wanted;
        BinaryPrimitives.WriteUInt32LittleEndian(reply[8..], maxReadahead);
        BinaryPrimitives.WriteUInt32LittleEndian(reply[12..], (uint)agreed);
        BinaryPrimitives.WriteUInt16LittleEndian(reply[16..], MaxBackground);
        BinaryPrimitives.WriteUInt16LittleEndian(reply[18..], MaxBackground * 3 / 4);
        BinaryPrimitives.WriteUInt32LittleEndian(reply[20..], FuseProtocol.MaxWrite);
        BinaryPrimitives.WriteUInt32LittleEndian(reply[24..], 1);
        BinaryPrimitives.WriteUInt16LittleEndian(reply[28..], FuseProtocol.MaxPages);
        if ((agreed & FuseProtocol.MapAlignment) != 0)
        {
            // log2 of the host page: the kernel fails the connection above 21.
            BinaryPrimitives.WriteUInt16LittleEndian(reply[30..], (ushort)BitOperations.Log2((uint)Environment.SystemPageSize));
        }

        BinaryPrimitives.WriteUInt32LittleEndian(reply[32..], (uint)(agreed >> 32));
        _connection.Initialized = true;
        VirtioFsLog.SessionStarted(_logger, _deviceId, major, minor, _window?.Size ?? 0);
        return FuseProtocol.InitOutSize;
    }

    private int Destroy()
    {
        EndSession();
        return ReplyEmpty();
    }
}
