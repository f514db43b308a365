using System.Numerics;

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
    private FuseResult Init(ref FuseArgs args)
    {
        if (!args.TryReadPrefix(FuseProtocol.CompatInitInSize, out FuseInitIn init))
        {
            return Fail(Errno.EINVAL);
        }

        (uint major, uint minor) = (init.Major, init.Minor);
        EndSession();
        var reply = new FuseInitOut { Major = FuseProtocol.KernelMajor, Minor = FuseProtocol.ServerMinor };
        if (major < FuseProtocol.KernelMajor)
        {
            return Fail(Errno.EPROTO);
        }

        if (major > FuseProtocol.KernelMajor)
        {
            // The kernel will send a new INIT with our major.
            return Reply(reply);
        }

        ulong offered = init.Flags;
        if ((offered & FuseProtocol.InitExt) != 0)
        {
            offered |= (ulong)init.Flags2 << 32;
        }

        // What the file system wants on top (a passthrough that keeps set-ID bits asks for HANDLE_KILLPRIV_V2).
        ulong wanted = ServerFlags | (_window is not null ? FuseProtocol.MapAlignment : 0) | _fs.Init(daxWindow: _window is not null);
        ulong agreed = offered & wanted;
        reply.MaxReadahead = init.MaxReadahead;
        reply.Flags = (uint)agreed;
        reply.MaxBackground = MaxBackground;
        reply.CongestionThreshold = MaxBackground * 3 / 4;
        reply.MaxWrite = FuseProtocol.MaxWrite;
        reply.TimeGran = 1;
        reply.MaxPages = FuseProtocol.MaxPages;
        reply.Flags2 = (uint)(agreed >> 32);
        if ((agreed & FuseProtocol.MapAlignment) != 0)
        {
            // log2 of the host page: the kernel fails the connection above 21.
            reply.MapAlignment = (ushort)BitOperations.Log2((uint)Environment.SystemPageSize);
        }

        _connection.Initialized = true;
        VirtioFsLog.SessionStarted(_logger, _deviceId, major, minor, _window?.Size ?? 0);
        return Reply(reply);
    }

    private FuseResult Destroy()
    {
        EndSession();
        return FuseResult.Empty;
    }
}
