using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;
using Vmm.Contracts.Memory;
using Vmm.Contracts.Virtio;
using Vmm.Plugins.VirtioFs.Fuse;
using Vmm.Plugins.VirtioFs.Host;

namespace Vmm.Plugins.VirtioFs.Server;

/// <summary>
/// A passthrough FUSE server over one host directory, answering requests straight from descriptor chains.
/// Every inode is held by an O_PATH handle and every change is an *at() call relative to one, so no guest name
/// is ever resolved as a path. Everything in a request is hostile: lengths are checked against the header and the
/// chain, ids against the tables, names against <see cref="NameRules"/>; a violation is an errno reply.
/// One session serves one queue on one thread (it owns its request and reply buffers); the sessions of a device
/// share a <see cref="FuseConnection"/>, whose tables are thread-safe.
/// </summary>
internal sealed partial class FuseSession : IDisposable
{
    private const int RequestArgsCapacity = FuseProtocol.MaxXattrSize + (2 * (HostFileSystem.MaxNameBytes + 1)) + 256;
    private const int ReplyPayloadCapacity = 128 * 1024;

    private readonly string _deviceId;
    private readonly ILogger _logger;
    private readonly FuseConnection _connection;
    private readonly bool _ownsConnection;
    private readonly bool _readOnly;
    private readonly bool _deviceNodes;
    private readonly bool _keepSetId;
    private readonly CachePolicy _cache;
    private readonly IdMap _uids;
    private readonly IdMap _gids;
    private readonly bool _privileged;
    private readonly SafeFileHandle _procSelfFd;
    private readonly SafeFileHandle _rootDirectory;
    private readonly InodeTable _inodes;
    private readonly HandleTable _handles;
    private readonly byte[] _request = new byte[FuseProtocol.InHeaderSize + RequestArgsCapacity];
    private readonly byte[] _reply = new byte[FuseProtocol.OutHeaderSize + ReplyPayloadCapacity];
    private readonly ChainIo _io = new();
    private readonly byte[] _dirents = new byte[32 * 1024];

    private ISharedMemoryRegion? _window;
    private bool _payloadInChain;

    /// <summary>A session with a connection of its own (one queue, or a test).</summary>
    public FuseSession(string deviceId, string sharedDir, VirtioFsOptions options, ILogger logger)
        : this(deviceId, new FuseConnection(sharedDir, options), logger, ownsConnection: true)
    {
    }

    /// <summary>A session over <paramref name="connection"/>, shared with the device's other queues.</summary>
    public FuseSession(string deviceId, FuseConnection connection, ILogger logger, bool ownsConnection = false)
    {
        ArgumentNullException.ThrowIfNull(connection);
        _deviceId = deviceId;
        _logger = logger;
        _connection = connection;
        _ownsConnection = ownsConnection;
        _readOnly = connection.ReadOnly;
        _deviceNodes = connection.DeviceNodes;
        _keepSetId = connection.KeepSetId;
        _cache = connection.Cache;
        _uids = connection.Uids;
        _gids = connection.Gids;
        _privileged = connection.Privileged;
        _procSelfFd = connection.ProcSelfFd;
        _rootDirectory = connection.RootDirectory;
        _inodes = connection.Inodes;
        _handles = connection.Handles;
    }

    /// <summary>Known node ids, the root included.</summary>
    public int InodeCount => _inodes.Count;

    /// <summary>Open file and directory handles.</summary>
    public int HandleCount => _handles.Count;

    /// <summary>Whether a DAX window is in use.</summary>
    public bool HasWindow => _window is not null;

    /// <summary>Runs before each request is dispatched, on the session's thread (tests hold a queue busy with it).</summary>
    internal Action<FuseOpcode>? BeforeDispatch { get; set; }

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
        try
        {
            return header.Opcode switch
            {
                FuseOpcode.Init => Init(ref reader),
                FuseOpcode.Destroy => Destroy(),
                FuseOpcode.Lookup => Lookup(header, ref reader),
                FuseOpcode.Forget => Forget(header, ref reader),
                FuseOpcode.BatchForget => BatchForget(ref reader),
                FuseOpcode.GetAttr => GetAttr(header),
                FuseOpcode.SetAttr => SetAttr(header, ref reader),
                FuseOpcode.ReadLink => ReadLink(header),
                FuseOpcode.Symlink => Symlink(header, ref reader),
                FuseOpcode.MkNod => MkNod(header, ref reader),
                FuseOpcode.MkDir => MkDir(header, ref reader),
                FuseOpcode.Unlink => Unlink(header, ref reader, directory: false),
                FuseOpcode.RmDir => Unlink(header, ref reader, directory: true),
                FuseOpcode.Rename => Rename(header, ref reader, hasFlags: false),
                FuseOpcode.Rename2 => Rename(header, ref reader, hasFlags: true),
                FuseOpcode.Link => Link(header, ref reader),
                FuseOpcode.Open => Open(header, ref reader),
                FuseOpcode.Read => Read(ref reader, chain),
                FuseOpcode.Write => Write(ref reader, argsLength, chain),
                FuseOpcode.StatFs => StatFs(header),
                FuseOpcode.Release or FuseOpcode.ReleaseDir => Release(ref reader),
                FuseOpcode.Flush => Flush(ref reader),
                FuseOpcode.FSync or FuseOpcode.FSyncDir => FSync(ref reader),
                FuseOpcode.SetXattr => SetXattr(header, ref reader),
                FuseOpcode.GetXattr => GetXattr(header, ref reader),
                FuseOpcode.ListXattr => ListXattr(header, ref reader),
                FuseOpcode.RemoveXattr => RemoveXattr(header, ref reader),
                FuseOpcode.OpenDir => OpenDir(header),
                FuseOpcode.ReadDir => ReadDir(ref reader, chain, plus: false),
                FuseOpcode.ReadDirPlus => ReadDir(ref reader, chain, plus: true),
                FuseOpcode.Access => Access(header),
                FuseOpcode.Create => Create(header, ref reader),
                FuseOpcode.Interrupt => FuseResult.NoReply,
                FuseOpcode.LSeek => LSeek(ref reader),
                FuseOpcode.Fallocate => Fallocate(ref reader),
                FuseOpcode.CopyFileRange => CopyFileRange(ref reader),
                FuseOpcode.SyncFs => SyncFs(),
                FuseOpcode.SetupMapping => SetupMapping(header, ref reader),
                FuseOpcode.RemoveMapping => RemoveMapping(ref reader),
                FuseOpcode.Ioctl => Ioctl(header, ref reader),
                _ => Fail(Errno.ENOSYS),
            };
        }
        catch (NativeCallException e)
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

    /// <summary>The payload part of the reply buffer.</summary>
    private Span<byte> Payload => _reply.AsSpan(FuseProtocol.OutHeaderSize);

    private void EndSession()
    {
        _handles.Clear();
        _connection.Exports?.Clear();
        _inodes.Clear();
        ClearWindow();
        _connection.Initialized = false;
    }

    private bool TryGetInode(ulong nodeId, out Inode inode) => _inodes.TryGet(nodeId, out inode);

    /// <summary>Finds a directory node; 0 or the errno (ENOENT unknown id, ENOTDIR not a directory).</summary>
    private int GetDirectory(ulong nodeId, out Inode directory)
    {
        if (!_inodes.TryGet(nodeId, out directory))
        {
            return Errno.ENOENT;
        }

        return directory.IsDirectory ? 0 : Errno.ENOTDIR;
    }

    private uint BlockSizeFor(in HostFileStatus status)
        => _window is not null ? 4096u : (uint)Math.Clamp(status.BlockSize, 0, 1 << 30);

    /// <summary>Writes fuse_entry_out for <paramref name="inode"/> into the payload; returns its size.</summary>
    private int WriteEntry(Span<byte> destination, Inode inode, in HostFileStatus status)
    {
        return Write(destination, new FuseEntryOut
        {
            NodeId = inode.NodeId,
            EntryValid = _cache.TimeoutSeconds,
            AttrValid = _cache.TimeoutSeconds,
            Attr = FuseWriter.ToAttr(status, _uids.ToGuest(status.Uid), _gids.ToGuest(status.Gid), BlockSizeFor(status)),
        });
    }

    /// <summary>Counts a lookup of the inode behind <paramref name="handle"/> (taking it) and writes its entry.</summary>
    private FuseResult ReplyEntry(SafeFileHandle handle, Span<byte> destination) => ReplyEntry(handle, destination, out _);

    /// <inheritdoc cref="ReplyEntry(SafeFileHandle, Span{byte})"/>
    private FuseResult ReplyEntry(SafeFileHandle handle, Span<byte> destination, out Inode? inode)
    {
        inode = null;
        HostFileStatus status;
        try
        {
            status = HostFileSystem.Stat(handle);
        }
        catch
        {
            handle.Dispose();
            throw;
        }

        bool kernelInterface;
        try
        {
            kernelInterface = _connection.IsKernelInterface(handle, status);
        }
        catch
        {
            handle.Dispose();
            throw;
        }

        inode = _inodes.Reference(handle, status, kernelInterface);
        return inode is null ? Fail(Errno.ENFILE) : FuseResult.Payload(WriteEntry(destination, inode, status));
    }

    private static FuseResult ReplyEmpty() => FuseResult.Empty;

    private static FuseResult Fail(int errno) => FuseResult.Error(errno);

    /// <summary>Writes a reply struct at the start of <paramref name="destination"/>; returns its size.</summary>
    private static int Write<T>(Span<byte> destination, in T value)
        where T : unmanaged
    {
        MemoryMarshal.Write(destination, in value);
        return Unsafe.SizeOf<T>();
    }

    /// <summary>Writes a reply struct as the whole payload; returns its size.</summary>
    private FuseResult Reply<T>(in T value)
        where T : unmanaged
        => FuseResult.Payload(Write(Payload, in value));
}
