using System.Buffers.Binary;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Vmm.Contracts.Virtio;
using Vmm.Core.Virtio.Pci;
using Vmm.Plugins.VirtioFs.Fuse;
using Vmm.Testing.Driver;
using Vmm.Testing.InProcess;

namespace Vmm.Plugins.VirtioFs.Tests;

/// <summary>
/// A guest-side FUSE client for tests: a virtio-fs device behind the in-process PCI transport, brought up by the
/// C# virtio-pci driver, with requests laid out in descriptor chains as Linux 6.1's virtio_fs does (header, packed
/// in-args, data; out-header, out-args). Raw helpers let a test send exactly what a hostile guest kernel could.
/// </summary>
internal sealed class FuseTestClient : IDisposable
{
    public const int HiprioQueue = 0;
    public const int RequestQueue = 1;
    public const int BufferSize = (1 << 20) + 8192;

    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(10);

    private readonly GuestBuffer _request;
    private readonly GuestBuffer _reply;
    private ulong _unique = 2;

    private FuseTestClient(InProcessMachine machine, IVirtioDevice device, VirtioPciTransport transport, VirtioPciDriver driver)
    {
        Machine = machine;
        Device = device;
        Transport = transport;
        Driver = driver;
        _request = machine.AllocateBuffer(BufferSize);
        _reply = machine.AllocateBuffer(BufferSize);
    }

    public InProcessMachine Machine { get; }

    /// <summary>The device; a plugin-host-loaded one is a different type identity, so tests that need it use <see cref="FsDevice"/>.</summary>
    public IVirtioDevice Device { get; }

    /// <summary>The device as this assembly's <see cref="VirtioFsDevice"/>.</summary>
    public VirtioFsDevice FsDevice => (VirtioFsDevice)Device;

    public VirtioPciTransport Transport { get; }

    /// <summary>
    /// When set, a request on a request queue is posted without the transport's doorbell and this is called instead
    /// (a test that kicks the device's notifier eventfd, as a vhost-user front-end would).
    /// </summary>
    public Action? Kick { get; set; }

    /// <summary>As <see cref="Kick"/>, for the hiprio queue.</summary>
    public Action? HiprioKick { get; set; }

    public VirtioPciDriver Driver { get; }

    /// <summary>Attaches a device over <paramref name="sharedDir"/> and brings it to DRIVER_OK (no FUSE_INIT yet).</summary>
    public static FuseTestClient Start(string sharedDir, VirtioFsOptions? options = null)
    {
        options ??= new VirtioFsOptions();
        return Start(new VirtioFsDevice("fs0", sharedDir, options, NullLoggerFactory.Instance, meterFactory: null));
    }

    /// <summary>Attaches <paramref name="device"/> (owned by the client from now on) and brings it to DRIVER_OK.</summary>
    public static FuseTestClient Start(IVirtioDevice device)
    {
        var machine = new InProcessMachine(128UL << 20);
        try
        {
            VirtioPciTransport transport = machine.AttachVirtioDevice(device);
            var driver = VirtioPciDriver.Open(machine, VirtioDeviceType.FileSystem);
            driver.Initialize();
            return new FuseTestClient(machine, device, transport, driver);
        }
        catch
        {
            machine.Dispose();
            throw;
        }
    }

    /// <summary>FUSE_INIT as 6.1 sends it (7.37, its flags); returns the reply.</summary>
    public FuseReply Init(uint major = 7, uint minor = 37, uint flags = 0x7FFF_FFFB, uint flags2 = 0)
        => Send(FuseOpcode.Init, 0, new FuseArgsBuilder().U32(major).U32(minor).U32(128 * 1024).U32(flags).U32(flags2).Zeros(44).ToArray());

    /// <summary>Sends one request: header and args in separate descriptors, reply room split after the out-header.</summary>
    public FuseReply Send(FuseOpcode opcode, ulong nodeId, ReadOnlySpan<byte> args, int replyRoom = 64 * 1024, uint uid = 0, uint gid = 0)
    {
        byte[] request = new byte[40 + args.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(request, (uint)request.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(request.AsSpan(4), (uint)opcode);
        BinaryPrimitives.WriteUInt64LittleEndian(request.AsSpan(8), _unique += 2);
        BinaryPrimitives.WriteUInt64LittleEndian(request.AsSpan(16), nodeId);
        BinaryPrimitives.WriteUInt32LittleEndian(request.AsSpan(24), uid);
        BinaryPrimitives.WriteUInt32LittleEndian(request.AsSpan(28), gid);
        args.CopyTo(request.AsSpan(40));
        return SendRaw(request, replyRoom);
    }

    /// <summary>Sends <paramref name="request"/> exactly as given (a forged header included) on <paramref name="queue"/>.</summary>
    /// <remarks>
    /// With <paramref name="pieceSize"/> the readable bytes after the first <paramref name="headerPart"/> and the
    /// writable bytes after the out-header are cut into descriptors of that size (Linux puts each data page in its
    /// own descriptor, and the first may start mid-page), the last piece shorter.
    /// </remarks>
    public FuseReply SendRaw(ReadOnlySpan<byte> request, int replyRoom, int queue = RequestQueue, int pieceSize = 0, int headerPart = 40)
    {
        Machine.Memory.Write(_request.Address, request);
        var readable = new List<GuestBuffer>();
        headerPart = Math.Min(headerPart, request.Length);
        readable.Add(new GuestBuffer(_request.Address, (uint)headerPart));
        AddPieces(readable, _request.Address + (ulong)headerPart, request.Length - headerPart, pieceSize);

        var writable = new List<GuestBuffer>();
        if (replyRoom > 0)
        {
            Machine.Memory.GetSpan(_reply.Address, replyRoom).Fill(0xEE);
            writable.Add(new GuestBuffer(_reply.Address, (uint)Math.Min(16, replyRoom)));
            AddPieces(writable, _reply.Address + 16, replyRoom - 16, pieceSize);
        }

        if ((queue == HiprioQueue ? HiprioKick : Kick) is { } kick)
        {
            Driver.GetQueue(queue).Add([.. readable], [.. writable]);
            kick();
        }
        else
        {
            Driver.Submit(queue, [.. readable], [.. writable]);
        }

        (_, uint used) = Driver.WaitForUsed(queue, s_timeout);
        if (used < 16)
        {
            return new FuseReply(0, 0, 0, [], used);
        }

        Span<byte> header = stackalloc byte[16];
        Machine.Memory.Read(_reply.Address, header);
        uint length = BinaryPrimitives.ReadUInt32LittleEndian(header);
        byte[] payload = new byte[Math.Max(0, (int)Math.Min(length, used) - 16)];
        Machine.Memory.Read(_reply.Address + 16, payload);
        return new FuseReply(length, BinaryPrimitives.ReadInt32LittleEndian(header[4..]), BinaryPrimitives.ReadUInt64LittleEndian(header[8..]), payload, used);
    }

    public FuseReply Lookup(ulong parent, string name) => Send(FuseOpcode.Lookup, parent, new FuseArgsBuilder().Name(name).ToArray());

    public ulong LookupNode(ulong parent, string name) => Lookup(parent, name).Ok().U64(0);

    public FuseReply MkDir(ulong parent, string name, uint mode = 0x1ED)
        => Send(FuseOpcode.MkDir, parent, new FuseArgsBuilder().U32(mode).U32(0).Name(name).ToArray());

    public FuseReply Create(ulong parent, string name, uint flags = 0x42, uint mode = 0x81A4)
        => Send(FuseOpcode.Create, parent, new FuseArgsBuilder().U32(flags).U32(mode).U32(0).U32(0).Name(name).ToArray());

    public FuseReply Open(ulong node, uint flags) => Send(FuseOpcode.Open, node, new FuseArgsBuilder().U32(flags).U32(0).ToArray());

    public FuseReply OpenDir(ulong node) => Send(FuseOpcode.OpenDir, node, new FuseArgsBuilder().U32(0).U32(0).ToArray());

    public FuseReply Write(ulong node, ulong fh, ulong offset, ReadOnlySpan<byte> data)
        => Send(FuseOpcode.Write, node, new FuseArgsBuilder().U64(fh).U64(offset).U32((uint)data.Length).U32(0).U64(0).U32(0).U32(0).Bytes(data).ToArray());

    public FuseReply Read(ulong node, ulong fh, ulong offset, uint size, int replyRoom = 64 * 1024)
        => Send(FuseOpcode.Read, node, ReadIn(fh, offset, size), replyRoom);

    public FuseReply ReadDir(ulong node, ulong fh, ulong offset, uint size, bool plus)
        => Send(plus ? FuseOpcode.ReadDirPlus : FuseOpcode.ReadDir, node, ReadIn(fh, offset, size));

    public FuseReply Release(ulong node, ulong fh, bool directory = false)
        => Send(directory ? FuseOpcode.ReleaseDir : FuseOpcode.Release, node, new FuseArgsBuilder().U64(fh).U32(0).U32(0).U64(0).ToArray());

    public FuseReply Unlink(ulong parent, string name) => Send(FuseOpcode.Unlink, parent, new FuseArgsBuilder().Name(name).ToArray());

    public FuseReply RmDir(ulong parent, string name) => Send(FuseOpcode.RmDir, parent, new FuseArgsBuilder().Name(name).ToArray());

    public FuseReply Rename(ulong parent, string oldName, ulong newParent, string newName)
        => Send(FuseOpcode.Rename, parent, new FuseArgsBuilder().U64(newParent).Name(oldName).Name(newName).ToArray());

    public FuseReply Rename2(ulong parent, string oldName, ulong newParent, string newName, uint flags)
        => Send(FuseOpcode.Rename2, parent, new FuseArgsBuilder().U64(newParent).U32(flags).U32(0).Name(oldName).Name(newName).ToArray());

    public FuseReply Link(ulong oldNode, ulong newParent, string newName)
        => Send(FuseOpcode.Link, newParent, new FuseArgsBuilder().U64(oldNode).Name(newName).ToArray());

    public FuseReply Symlink(ulong parent, string name, string target)
        => Send(FuseOpcode.Symlink, parent, new FuseArgsBuilder().Name(name).Name(target).ToArray());

    public FuseReply GetAttr(ulong node) => Send(FuseOpcode.GetAttr, node, new FuseArgsBuilder().U32(0).U32(0).U64(0).ToArray());

    public FuseReply Truncate(ulong node, ulong size)
        => Send(FuseOpcode.SetAttr, node, new FuseArgsBuilder().U32(1 << 3).U32(0).U64(0).U64(size).Zeros(64).ToArray());

    /// <summary>FORGET on the hiprio queue: one readable buffer, no writable part, as 6.1 sends it.</summary>
    public void Forget(ulong node, ulong count)
    {
        byte[] request = new byte[48];
        BinaryPrimitives.WriteUInt32LittleEndian(request, 48);
        BinaryPrimitives.WriteUInt32LittleEndian(request.AsSpan(4), (uint)FuseOpcode.Forget);
        BinaryPrimitives.WriteUInt64LittleEndian(request.AsSpan(8), _unique += 2);
        BinaryPrimitives.WriteUInt64LittleEndian(request.AsSpan(16), node);
        BinaryPrimitives.WriteUInt64LittleEndian(request.AsSpan(40), count);
        FuseReply reply = SendRaw(request, 0, HiprioQueue);
        Assert.Equal(0u, reply.UsedLength);
    }

    /// <summary>Parses READDIR or READDIRPLUS records into (name, node id, d_off).</summary>
    public static List<(string Name, ulong NodeId, ulong Offset, uint Type)> ParseDirents(byte[] payload, bool plus)
    {
        var entries = new List<(string, ulong, ulong, uint)>();
        int position = 0;
        while (position < payload.Length)
        {
            ulong nodeId = plus ? BinaryPrimitives.ReadUInt64LittleEndian(payload.AsSpan(position)) : 0;
            int dirent = position + (plus ? 128 : 0);
            ulong offset = BinaryPrimitives.ReadUInt64LittleEndian(payload.AsSpan(dirent + 8));
            int nameLength = (int)BinaryPrimitives.ReadUInt32LittleEndian(payload.AsSpan(dirent + 16));
            uint type = BinaryPrimitives.ReadUInt32LittleEndian(payload.AsSpan(dirent + 20));
            entries.Add((Encoding.UTF8.GetString(payload, dirent + 24, nameLength), nodeId, offset, type));
            position = dirent + ((24 + nameLength + 7) & ~7);
        }

        return entries;
    }

    public void Dispose()
    {
        Machine.Dispose();
        Device.Dispose();
    }

    private static void AddPieces(List<GuestBuffer> buffers, ulong address, int length, int pieceSize)
    {
        for (int offset = 0; offset < length;)
        {
            int piece = pieceSize <= 0 ? length : Math.Min(pieceSize, length - offset);
            buffers.Add(new GuestBuffer(address + (ulong)offset, (uint)piece));
            offset += piece;
        }
    }

    private static byte[] ReadIn(ulong fh, ulong offset, uint size)
        => new FuseArgsBuilder().U64(fh).U64(offset).U32(size).U32(0).U64(0).U32(0).U32(0).ToArray();
}
