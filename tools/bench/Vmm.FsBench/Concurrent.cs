using System.Buffers.Binary;
using Vmm.Bench;
using Vmm.Contracts.Virtio;
using Vmm.Testing.VhostUser;

namespace Vmm.FsBench;

/// <summary>
/// The same workloads with more than one request in flight: <c>depth</c> requests at a time on one request queue (a
/// guest with several processes on one CPU, or async I/O), or one thread per request queue (Linux 6.11 and later map
/// request queues to CPUs). The metadata trio is pipelined per file: CREATE then RELEASE, LOOKUP, UNLINK.
/// A back-end that offers fewer request queues (the C virtiofsd offers one) gets the same number of requests in
/// flight on the queues it has, as a guest would use it.
/// </summary>
internal static class Concurrent
{
    public static IReadOnlyList<Result> Run(VhostUserBackend backend, string share, int fileMiB, int chunkKiB, int metaOps, int depth, int queues)
    {
        int chunk = chunkKiB * 1024;
        using VhostUserFrontend frontend = VhostUserFrontend.Connect(backend.SocketPath, 256UL << 20);
        frontend.Negotiate(VirtioFeatures.Version1 | VirtioFeatures.RingEventIndex);
        int offered = frontend.GetQueueCount() - 1;
        if (offered < queues)
        {
            depth = depth * queues / Math.Max(1, offered);
            queues = Math.Max(1, offered);
        }

        Console.Error.WriteLine($"{backend.Name}: {queues} request queue(s) x depth {depth}");

        _ = frontend.StartQueue(0, 128);
        FuseClient[] clients = new FuseClient[queues];
        for (int q = 0; q < queues; q++)
        {
            clients[q] = new FuseClient(frontend, frontend.StartQueue(1 + q, 1024), chunk, depth);
        }

        FuseClient first = clients[0];
        first.Check(first.Send(FuseClient.Init, 0, Workloads.InitArgs(), 0, 64, 0), "INIT");
        (ulong node, ulong fh) = Workloads.CreateFile(first, "bench.bin");
        byte[] payload = new byte[chunk];
        new Random(1).NextBytes(payload);
        long total = (long)fileMiB << 20;
        int chunks = (int)(total / chunk);
        foreach (FuseClient client in clients)
        {
            for (int slot = 0; slot < depth; slot++)
            {
                frontend.Memory.Write(client.SlotData(slot), payload);
            }
        }

        string label = $"{queues * depth} in flight";
        var results = new List<Result>();
        var clock = new CpuClock(backend);
        double mib = (double)total / (1 << 20);
        results.Add(Time(clock, clients, (fuse, part) => OneEach(fuse, Range(chunks, part, queues), (item, slot) =>
            fuse.Post(slot, FuseClient.Write, node, Workloads.IoArgs(fh, (long)item * chunk, chunk), chunk, 8, 0)))
            .Stop($"seq write {chunkKiB} KiB, {label}", mib, "MiB/s", chunks));

        results.Add(Time(clock, clients, (fuse, part) => OneEach(fuse, Range(chunks, part, queues), (item, slot) =>
            fuse.Post(slot, FuseClient.Read, node, Workloads.IoArgs(fh, (long)item * chunk, chunk), 0, 0, chunk)))
            .Stop($"seq read {chunkKiB} KiB, {label}", mib, "MiB/s", chunks));

        int files = Math.Max(queues, metaOps / 4);
        byte[][] names = [.. Enumerable.Range(0, files).Select(i => FuseClient.Name($"small{i}"))];
        results.Add(Time(clock, clients, (fuse, part) => Pipeline(fuse, Range(files, part, queues), (item, step, slot) =>
        {
            switch (step)
            {
                case 0:
                    fuse.Post(slot, FuseClient.Create, 1, Workloads.CreateArgs(names[item]), 0, 144, 0);
                    return true;
                case 1:
                    byte[] entry = fuse.ReplyArgs(slot, 144);
                    byte[] release = new byte[24];
                    BinaryPrimitives.WriteUInt64LittleEndian(release, BinaryPrimitives.ReadUInt64LittleEndian(entry.AsSpan(128)));
                    fuse.Post(slot, FuseClient.Release, BinaryPrimitives.ReadUInt64LittleEndian(entry), release, 0, 0, 0);
                    return true;
                default:
                    return false;
            }
        })).Stop($"create (+release), {label}", files, "files/s", 2L * files));

        results.Add(Time(clock, clients, (fuse, part) => OneEach(fuse, Range(files, part, queues), (item, slot) =>
            fuse.Post(slot, FuseClient.Lookup, 1, names[item], 0, 128, 0)))
            .Stop($"stat (lookup), {label}", files, "files/s", files));

        results.Add(Time(clock, clients, (fuse, part) => OneEach(fuse, Range(files, part, queues), (item, slot) =>
            fuse.Post(slot, FuseClient.Unlink, 1, names[item], 0, 0, 0)))
            .Stop($"unlink, {label}", files, "files/s", files));

        if (Directory.EnumerateFiles(share, "small*").Any())
        {
            throw new InvalidOperationException($"{backend.Name}: small files are left after the unlinks.");
        }

        return results;
    }

    /// <summary>The items of part <paramref name="part"/> of <paramref name="parts"/>: a contiguous share of <paramref name="count"/>.</summary>
    private static (int Start, int End) Range(int count, int part, int parts) => (count * part / parts, count * (part + 1) / parts);

    /// <summary>Runs <paramref name="work"/> on every client at once, each on a thread of its own, timed by <paramref name="clock"/> (stop it for the result).</summary>
    private static CpuClock Time(CpuClock clock, FuseClient[] clients, Action<FuseClient, int> work)
    {
        using var start = new Barrier(clients.Length + 1);
        var threads = new Thread[clients.Length];
        Exception? failure = null;
        for (int q = 0; q < clients.Length; q++)
        {
            int part = q;
            threads[q] = new Thread(() =>
            {
                start.SignalAndWait();
                try
                {
                    work(clients[part], part);
                }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref failure, e, null);
                }
            });
            threads[q].Start();
        }

        // The clock starts before the release: on a busy host the clients may finish before this thread runs again.
        clock.Start();
        start.SignalAndWait();
        foreach (Thread thread in threads)
        {
            thread.Join();
        }

        return failure is null ? clock : throw new InvalidOperationException("A request failed.", failure);
    }

    /// <summary><see cref="Pipeline"/> of items that are one request each.</summary>
    private static void OneEach(FuseClient fuse, (int Start, int End) items, Action<int, int> post)
        => Pipeline(fuse, items, (item, step, slot) =>
        {
            if (step > 0)
            {
                return false;
            }

            post(item, slot);
            return true;
        });

    /// <summary>
    /// Keeps up to the client's depth items in flight, each a chain of requests: <paramref name="post"/> posts step
    /// <c>step</c> of item <c>item</c> from slot <c>slot</c> (where the previous step's answer is), or says the item is done.
    /// </summary>
    private static void Pipeline(FuseClient fuse, (int Start, int End) items, Func<int, int, int, bool> post)
    {
        int next = items.Start, inFlight = 0;
        int[] itemOf = new int[fuse.Depth];
        int[] stepOf = new int[fuse.Depth];
        for (int slot = 0; slot < fuse.Depth && next < items.End; slot++, inFlight++)
        {
            (itemOf[slot], stepOf[slot]) = (next, 0);
            post(next++, 0, slot);
        }

        while (inFlight > 0)
        {
            (int slot, int error, _) = fuse.WaitAny();
            if (error != 0)
            {
                throw new InvalidOperationException($"Step {stepOf[slot]} of item {itemOf[slot]} failed with errno {-error}.");
            }

            if (post(itemOf[slot], ++stepOf[slot], slot))
            {
                continue;
            }

            if (next < items.End)
            {
                (itemOf[slot], stepOf[slot]) = (next, 0);
                post(next++, 0, slot);
            }
            else
            {
                inFlight--;
            }
        }
    }
}
