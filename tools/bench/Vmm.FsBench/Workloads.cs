using System.Buffers.Binary;
using Vmm.Bench;
using Vmm.Contracts.Virtio;
using Vmm.Testing.VhostUser;

namespace Vmm.FsBench;

/// <summary>
/// The workloads, one request in flight: sequential write and read, random 4 KiB reads, GETATTR, and the metadata
/// trio on many small files: create (CREATE + RELEASE), stat (LOOKUP, what a guest stat of an uncached name sends)
/// and unlink (UNLINK).
/// </summary>
internal static class Workloads
{
    public static IReadOnlyList<Result> Run(VhostUserBackend backend, string share, int fileMiB, int chunkKiB, int metaOps)
    {
        int chunk = chunkKiB * 1024;
        using VhostUserFrontend frontend = VhostUserFrontend.Connect(backend.SocketPath, 64UL << 20);
        frontend.Negotiate(VirtioFeatures.Version1 | VirtioFeatures.RingEventIndex);
        VhostUserFrontendQueue hiprio = frontend.StartQueue(0, 128);
        VhostUserFrontendQueue requests = frontend.StartQueue(1, 1024);
        var fuse = new FuseClient(frontend, requests, Math.Max(chunk, 1 << 20));
        var forgets = new FuseClient(frontend, hiprio, 4096);

        fuse.Check(fuse.Send(FuseClient.Init, 0, InitArgs(), 0, 64, 0), "INIT");
        (ulong node, ulong fh) = CreateFile(fuse, "bench.bin");

        byte[] payload = new byte[chunk];
        new Random(1).NextBytes(payload);
        frontend.Memory.Write(fuse.DataAddress, payload);
        long total = (long)fileMiB << 20;
        byte[] io = new byte[40];
        var results = new List<Result>();

        long chunks = total / chunk;
        var clock = new CpuClock(backend);
        clock.Start();
        for (long offset = 0; offset < total; offset += chunk)
        {
            FillIo(io, fh, offset, chunk);
            fuse.Check(fuse.Send(FuseClient.Write, node, io, chunk, 8, 0), "WRITE");
        }

        results.Add(clock.Stop($"seq write {chunkKiB} KiB", (double)total / (1 << 20), "MiB/s", chunks));

        clock.Start();
        for (long offset = 0; offset < total; offset += chunk)
        {
            FillIo(io, fh, offset, chunk);
            fuse.Check(fuse.Send(FuseClient.Read, node, io, 0, 0, chunk), "READ");
        }

        results.Add(clock.Stop($"seq read {chunkKiB} KiB", (double)total / (1 << 20), "MiB/s", chunks));

        var random = new Random(2);
        int reads = Math.Max(1, metaOps);
        clock.Start();
        for (int i = 0; i < reads; i++)
        {
            FillIo(io, fh, (long)random.Next((int)(total / 4096)) * 4096, 4096);
            fuse.Check(fuse.Send(FuseClient.Read, node, io, 0, 0, 4096), "READ 4K");
        }

        results.Add(clock.Stop("rand read 4 KiB", reads, "IOPS", reads));

        byte[] getattr = new byte[16];
        clock.Start();
        for (int i = 0; i < metaOps; i++)
        {
            fuse.Check(fuse.Send(FuseClient.GetAttr, node, getattr, 0, 104, 0), "GETATTR");
        }

        results.Add(clock.Stop("getattr", metaOps, "ops/s", metaOps));

        int files = Math.Max(1, metaOps / 4);
        byte[][] names = [.. Enumerable.Range(0, files).Select(i => FuseClient.Name($"small{i}"))];
        ulong[] smallNodes = new ulong[files];
        byte[] release = new byte[24];
        clock.Start();
        for (int i = 0; i < files; i++)
        {
            fuse.Check(fuse.Send(FuseClient.Create, 1, CreateArgs(names[i]), 0, 144, 0), "CREATE small");
            byte[] smallEntry = fuse.ReplyArgs(144);
            smallNodes[i] = BinaryPrimitives.ReadUInt64LittleEndian(smallEntry);
            BinaryPrimitives.WriteUInt64LittleEndian(release, BinaryPrimitives.ReadUInt64LittleEndian(smallEntry.AsSpan(128)));
            fuse.Check(fuse.Send(FuseClient.Release, BinaryPrimitives.ReadUInt64LittleEndian(smallEntry), release, 0, 0, 0), "RELEASE");
        }

        results.Add(clock.Stop("create (+release)", files, "files/s", 2L * files));

        clock.Start();
        foreach (byte[] name in names)
        {
            fuse.Check(fuse.Send(FuseClient.Lookup, 1, name, 0, 128, 0), "LOOKUP");
        }

        results.Add(clock.Stop("stat (lookup)", files, "files/s", files));

        clock.Start();
        foreach (byte[] name in names)
        {
            fuse.Check(fuse.Send(FuseClient.Unlink, 1, name, 0, 0, 0), "UNLINK");
        }

        results.Add(clock.Stop("unlink", files, "files/s", files));

        // What a guest sends when it drops an inode: FORGET on hiprio (one per request, as Linux's virtio_fs does),
        // here of each unlinked file's two lookups (CREATE, LOOKUP). No reply: the back-end only returns the buffer.
        byte[] forget = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(forget, 2);
        clock.Start();
        foreach (ulong smallNode in smallNodes)
        {
            forgets.Send(FuseClient.Forget, smallNode, forget, 0, -1, 0);
        }

        results.Add(clock.Stop("forget (hiprio)", files, "ops/s", files));
        if (Directory.EnumerateFiles(share, "small*").Any())
        {
            throw new InvalidOperationException($"{backend.Name}: small files are left after the unlinks.");
        }

        if (new FileInfo(Path.Combine(share, "bench.bin")).Length != total)
        {
            throw new InvalidOperationException($"{backend.Name}: the host file has the wrong size.");
        }

        return results;
    }

    /// <summary>FUSE_INIT 7.36 asking for async reads, big writes and max pages.</summary>
    public static byte[] InitArgs()
    {
        byte[] init = new byte[64];
        BinaryPrimitives.WriteUInt32LittleEndian(init, 7);
        BinaryPrimitives.WriteUInt32LittleEndian(init.AsSpan(4), 36);
        BinaryPrimitives.WriteUInt32LittleEndian(init.AsSpan(8), 128 * 1024);
        BinaryPrimitives.WriteUInt32LittleEndian(init.AsSpan(12), (1u << 22) | (1u << 5) | 1u);
        return init;
    }

    /// <summary>CREATE args (O_RDWR | O_CREAT, mode 0644) for <paramref name="name"/> (NUL-terminated).</summary>
    public static byte[] CreateArgs(byte[] name)
    {
        byte[] create = [.. new byte[16], .. name];
        BinaryPrimitives.WriteUInt32LittleEndian(create, 0x42);
        BinaryPrimitives.WriteUInt32LittleEndian(create.AsSpan(4), 0x81A4);
        return create;
    }

    /// <summary>Creates <paramref name="name"/> in the root; its node id and open file handle.</summary>
    public static (ulong Node, ulong FileHandle) CreateFile(FuseClient fuse, string name)
    {
        fuse.Check(fuse.Send(FuseClient.Create, 1, CreateArgs(FuseClient.Name(name)), 0, 144, 0), "CREATE");
        byte[] entry = fuse.ReplyArgs(144);
        return (BinaryPrimitives.ReadUInt64LittleEndian(entry), BinaryPrimitives.ReadUInt64LittleEndian(entry.AsSpan(128)));
    }

    /// <summary>READ/WRITE args: file handle, offset, size.</summary>
    public static byte[] IoArgs(ulong fh, long offset, int size)
    {
        byte[] io = new byte[40];
        FillIo(io, fh, offset, size);
        return io;
    }

    private static void FillIo(byte[] io, ulong fh, long offset, int size)
    {
        Array.Clear(io);
        BinaryPrimitives.WriteUInt64LittleEndian(io, fh);
        BinaryPrimitives.WriteUInt64LittleEndian(io.AsSpan(8), (ulong)offset);
        BinaryPrimitives.WriteUInt32LittleEndian(io.AsSpan(16), (uint)size);
    }
}

/// <summary>One measured figure (higher is better) and the CPU time both sides spent per FUSE request, in microseconds.</summary>
internal readonly record struct Result(string Name, double Value, string Unit, double CpuMicrosPerRequest);
