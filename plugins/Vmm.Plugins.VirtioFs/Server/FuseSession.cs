using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Vmm.Contracts.Memory;
using Vmm.Contracts.Virtio;

namespace Vmm.Plugins.VirtioFs.Server;

/// <summary>
/// The FUSE protocol server of one queue: it decodes each request straight from its descriptor chain, calls the
/// <see cref="IFuseFileSystem"/> operation it names with typed arguments, and encodes the answer; it knows nothing
/// of how files are kept (crosvm's <c>fuse::server</c>). Everything in a request is hostile: lengths are checked
/// against the header and the chain before anything is decoded, and a request too short for its struct is EINVAL.
/// One session serves one queue on one thread (it owns its request and reply buffers); the sessions of a device
/// share a <see cref="FuseConnection"/>.
/// </summary>
internal sealed partial class FuseSession : IDisposable
{
    private const int RequestArgsCapacity = FuseProtocol.MaxXattrSize + (2 * (FuseProtocol.MaxPathLength + 1)) + 256;
    private const int ReplyPayloadCapacity = 128 * 1024;

    private readonly string _deviceId;
    private readonly ILogger _logger;
    private readonly FuseConnection _connection;
    private readonly IFuseFileSystem _fs;
    private readonly bool _ownsConnection;
    private readonly byte[] _request = new byte[FuseProtocol.InHeaderSize + RequestArgsCapacity];
    private readonly byte[] _reply = new byte[FuseProtocol.OutHeaderSize + ReplyPayloadCapacity];

    private ISharedMemoryRegion? _window;
    private bool _payloadInChain;

    /// <summary>A session over <paramref name="connection"/>, shared with the device's other queues unless it owns it.</summary>
    public FuseSession(string deviceId, FuseConnection connection, ILogger logger, bool ownsConnection = false)
    {
        ArgumentNullException.ThrowIfNull(connection);
        _deviceId = deviceId;
        _logger = logger;
        _connection = connection;
        _fs = connection.FileSystem;
        _ownsConnection = ownsConnection;
    }

    /// <summary>Whether a DAX window is in use.</summary>
    public bool HasWindow => _window is not null;

    /// <summary>Runs before each request is dispatched, on the session's thread (tests hold a queue busy with it).</summary>
    internal Action<FuseOpcode>? BeforeDispatch { get; set; }

    /// <summary>The payload part of the reply buffer.</summary>
    private Span<byte> Payload => _reply.AsSpan(FuseProtocol.OutHeaderSize);

    /// <summary>Gives the session the DAX window (or none) for the activation that follows.</summary>
    public void AttachWindow(ISharedMemoryRegion? window)
    {
        _window = window;
        ClearWindow();
    }

    /// <summary>Forgets every node, handle and mapping (device reset).</summary>
    public void Reset()
    {
        EndSession();
        _window = null;
    }

    public void Dispose()
    {
        if (_ownsConnection)
        {
            _connection.Dispose();
        }
    }

    /// <summary>Answers one request. Returns the bytes written into the chain's writable part.</summary>
    public uint Handle(DescriptorChain chain, int queueIndex)
    {
        ArgumentNullException.ThrowIfNull(chain);
        if (chain.ReadableLength < FuseProtocol.InHeaderSize)
        {
            VirtioFsLog.MalformedRequest(_logger, _deviceId, queueIndex, $"{chain.ReadableLength} readable bytes, shorter than fuse_in_header");
            return 0;
        }

        Span<byte> headerBytes = _request.AsSpan(0, FuseProtocol.InHeaderSize);
        chain.Read(0, headerBytes);
        FuseInHeader header = MemoryMarshal.Read<FuseInHeader>(headerBytes);
        _payloadInChain = false;
        FuseResult result;
        if (header.Length < FuseProtocol.InHeaderSize || header.Length > chain.ReadableLength)
        {
            VirtioFsLog.MalformedRequest(_logger, _deviceId, queueIndex, $"fuse_in_header.len {header.Length} does not fit the {chain.ReadableLength} readable bytes");
            result = Fail(Errno.EINVAL);
        }
        else
        {
            int argsLength = (int)header.Length - FuseProtocol.InHeaderSize;
            int copied = header.Opcode == FuseOpcode.Write ? Math.Min(argsLength, FuseProtocol.WriteInSize) : argsLength;
            if (copied > RequestArgsCapacity)
            {
                result = Fail(Errno.EINVAL);
            }
            else
            {
                Span<byte> args = _request.AsSpan(FuseProtocol.InHeaderSize, copied);
                chain.Read(FuseProtocol.InHeaderSize, args);
                result = Dispatch(header, args, argsLength, chain, queueIndex);
            }
        }

        if (result.IsNoReply)
        {
            return 0;
        }

        if (result.IsError)
        {
            VirtioFsLog.RequestFailed(_logger, _deviceId, header.Opcode, header.NodeId, result.Errno);
        }

        return Complete(chain, header.Unique, result);
    }

    private FuseResult Dispatch(in FuseInHeader header, ReadOnlySpan<byte> args, int argsLength, DescriptorChain chain, int queueIndex)
    {
        BeforeDispatch?.Invoke(header.Opcode);
        if (queueIndex == 0 && header.Opcode is not (FuseOpcode.Forget or FuseOpcode.BatchForget or FuseOpcode.Interrupt))
        {
            // Hiprio is served on the device worker and must stay quick: it carries only these (virtio 1.2 §5.11.6.2).
            return Fail(Errno.EINVAL);
        }

        if (!_connection.Initialized && header.Opcode != FuseOpcode.Init)
        {
            return header.Opcode is FuseOpcode.Forget or FuseOpcode.BatchForget or FuseOpcode.Interrupt ? FuseResult.NoReply : Fail(Errno.EIO);
        }

        var reader = new FuseArgs(args);
        var context = new FuseContext(header.Uid, header.Gid, header.Pid, Umask: 0);
        try
        {
            return Decode(header, context, ref reader, argsLength, chain);
        }
        catch (FuseFileSystemException e)
        {
            return Fail(e.Errno);
        }
        catch (GuestMemoryException)
        {
            return Fail(Errno.EIO);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException or OverflowException)
        {
            VirtioFsLog.UnexpectedFailure(_logger, _deviceId, header.Opcode, e);
            return Fail(Errno.EIO);
        }
    }

    private FuseResult Decode(in FuseInHeader header, in FuseContext context, ref FuseArgs args, int argsLength, DescriptorChain chain) => header.Opcode switch
    {
        FuseOpcode.Init => Init(ref args),
        FuseOpcode.Destroy => Destroy(),
        FuseOpcode.Lookup => Lookup(header, context, ref args),
        FuseOpcode.Forget => Forget(header, ref args),
        FuseOpcode.BatchForget => BatchForget(ref args),
        FuseOpcode.GetAttr => ReplyAttributes(_fs.GetAttr(context, header.NodeId)),
        FuseOpcode.SetAttr => SetAttr(header, context, ref args),
        FuseOpcode.ReadLink => ReplyLength(_fs.ReadLink(context, header.NodeId, Payload[..FuseProtocol.MaxPathLength])),
        FuseOpcode.Symlink => Symlink(header, context, ref args),
        FuseOpcode.MkNod => MkNod(header, context, ref args),
        FuseOpcode.MkDir => MkDir(header, context, ref args),
        FuseOpcode.Unlink => Unlink(header, context, ref args, directory: false),
        FuseOpcode.RmDir => Unlink(header, context, ref args, directory: true),
        FuseOpcode.Rename => Rename(header, context, ref args, hasFlags: false),
        FuseOpcode.Rename2 => Rename(header, context, ref args, hasFlags: true),
        FuseOpcode.Link => Link(header, context, ref args),
        FuseOpcode.Open => Open(header, context, ref args),
        FuseOpcode.Read => Read(context, ref args, chain),
        FuseOpcode.Write => Write(context, ref args, argsLength, chain),
        FuseOpcode.StatFs => StatFs(header, context),
        FuseOpcode.Release or FuseOpcode.ReleaseDir => Release(ref args),
        FuseOpcode.Flush => Flush(ref args),
        FuseOpcode.FSync or FuseOpcode.FSyncDir => FSync(ref args),
        FuseOpcode.SetXattr => SetXattr(header, context, ref args),
        FuseOpcode.GetXattr => GetXattr(header, context, ref args),
        FuseOpcode.ListXattr => ListXattr(header, context, ref args),
        FuseOpcode.RemoveXattr => RemoveXattr(header, context, ref args),
        FuseOpcode.OpenDir => ReplyOpen(_fs.OpenDir(context, header.NodeId)),
        FuseOpcode.ReadDir => ReadDir(context, ref args, chain, plus: false),
        FuseOpcode.ReadDirPlus => ReadDir(context, ref args, chain, plus: true),
        FuseOpcode.Access => ReplyStatus(_fs.Access(context, header.NodeId)),
        FuseOpcode.Create => Create(header, context, ref args),
        FuseOpcode.Interrupt => FuseResult.NoReply,
        FuseOpcode.LSeek => LSeek(ref args),
        FuseOpcode.Fallocate => Fallocate(ref args),
        FuseOpcode.CopyFileRange => CopyFileRange(ref args),
        FuseOpcode.SyncFs => ReplyStatus(_fs.SyncFs()),
        FuseOpcode.SetupMapping => SetupMapping(header, context, ref args),
        FuseOpcode.RemoveMapping => RemoveMapping(ref args),
        FuseOpcode.Ioctl => Ioctl(header, ref args),
        _ => Fail(Errno.ENOSYS),
    };

    /// <summary>Writes fuse_out_header (and the payload unless it is already in the chain).</summary>
    private uint Complete(DescriptorChain chain, ulong unique, FuseResult result)
    {
        if (chain.WritableLength < FuseProtocol.OutHeaderSize)
        {
            return 0;
        }

        if (!result.IsError && !_payloadInChain && FuseProtocol.OutHeaderSize + (long)result.Length > chain.WritableLength)
        {
            // The guest gave too little room for a complete fixed-size reply: never send a short struct.
            result = Fail(Errno.EINVAL);
        }

        // The wire carries the errno negated (fuse_out_header.error), the one place it is.
        int length = FuseProtocol.OutHeaderSize + result.Length;
        MemoryMarshal.Write(_reply, new FuseOutHeader { Length = (uint)length, Error = -result.Errno, Unique = unique });
        if (_payloadInChain || result.Length == 0)
        {
            chain.Write(0, _reply.AsSpan(0, FuseProtocol.OutHeaderSize));
        }
        else
        {
            chain.Write(0, _reply.AsSpan(0, length));
        }

        return (uint)length;
    }

    private void EndSession()
    {
        _fs.Destroy();
        ClearWindow();
        _connection.Initialized = false;
    }

    private static FuseResult Fail(int errno) => FuseResult.Error(errno);

    /// <summary>Writes a reply struct at the start of <paramref name="destination"/>; returns its size.</summary>
    private static int Write<T>(Span<byte> destination, in T value)
        where T : unmanaged
    {
        MemoryMarshal.Write(destination, in value);
        return Unsafe.SizeOf<T>();
    }

    /// <summary>Writes a reply struct as the whole payload.</summary>
    private FuseResult Reply<T>(in T value)
        where T : unmanaged
        => FuseResult.Payload(Write(Payload, in value));
}
