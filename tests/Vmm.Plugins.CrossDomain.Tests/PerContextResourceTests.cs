using System.Buffers.Binary;

namespace Vmm.Plugins.CrossDomain.Tests;

/// <summary>
/// What a context holds on the host (its display socket, the mapped blobs, the futex mappings and watcher threads)
/// is given back on CTX_DESTROY and on a device reset: the process's descriptors (/proc/self/fd), mappings
/// (/proc/self/maps) and threads (/proc/self/task) are counted before and after. Runs alone (no other test may open
/// files or threads meanwhile).
/// </summary>
[Collection(ResourceCountCollection.Name)]
public sealed class PerContextResourceTests : IDisposable
{
    private const int Contexts = 4;
    private readonly XvfbServer _xvfb = new();
    private readonly SharedFutexFile _file = new();
    private readonly ListLogger _log = new();

    public void Dispose()
    {
        _file.Dispose();
        _xvfb.Dispose();
    }

    [Fact]
    public void Ctx_destroy_gives_back_every_socket_mapping_and_futex_waiter()
    {
        using CrossDomainGuestGpu gpu = CreateGpu();
        // A first round of the same size: glibc keeps the stacks of ended threads for reuse, the runtime grows its pools once.
        Cleanup(Exercise(gpu, Contexts), reset: null);
        (int Fds, int Maps, int Threads) baseline = Counts();

        List<(CrossDomainChannel, uint)> open = Exercise(gpu, Contexts);
        (int Fds, int Maps, int Threads) busy = Counts();
        Assert.True(busy.Fds >= baseline.Fds + Contexts, $"{Contexts} contexts hold {busy.Fds - baseline.Fds} more descriptors");
        Assert.True(busy.Maps >= baseline.Maps + (2 * Contexts) && busy.Threads >= baseline.Threads + (2 * Contexts), $"mappings {baseline.Maps} -> {busy.Maps}, threads {baseline.Threads} -> {busy.Threads}");

        Cleanup(open, reset: null);
        AssertBackTo(baseline);
    }

    [Fact]
    public void A_device_reset_gives_back_every_socket_mapping_and_futex_waiter()
    {
        using CrossDomainGuestGpu gpu = CreateGpu();
        Cleanup(Exercise(gpu, Contexts), reset: gpu);
        (int Fds, int Maps, int Threads) baseline = Counts();
        string[] before = FdTargets();

        List<(CrossDomainChannel, uint)> open = Exercise(gpu, Contexts);
        Assert.True(Counts().Fds >= baseline.Fds + Contexts);

        Cleanup(open, reset: gpu);
        AssertBackTo(baseline, before);
    }

    private CrossDomainGuestGpu CreateGpu()
    {
        if (_xvfb.SkipReason is string reason)
        {
            Assert.Skip(reason);
        }

        var settings = new CrossDomainSettings(x11: Host.DisplaySocket.ParseX11(_xvfb.Display, out _), exports: [_file]);
        return new CrossDomainGuestGpu(new CrossDomainContextType(settings, _log));
    }

    /// <summary>Opens contexts that each hold a display socket, a host blob mapped into the window and a forwarded futex.</summary>
    private List<(CrossDomainChannel Channel, uint Blob)> Exercise(CrossDomainGuestGpu gpu, int count)
    {
        try
        {
            return ExerciseOnce(gpu, count);
        }
        catch (CrossDomainGuestException exception)
        {
            throw new CrossDomainGuestException($"{exception.Message}; plugin log: {_log}", exception);
        }
    }

    private static List<(CrossDomainChannel Channel, uint Blob)> ExerciseOnce(CrossDomainGuestGpu gpu, int count)
    {
        var open = new List<(CrossDomainChannel, uint)>();
        for (int i = 0; i < count; i++)
        {
            var channel = new CrossDomainChannel(gpu);
            channel.Open(CrossDomainCommands.ChannelX11);
            channel.Send(X11Wire.ConnectionSetup());
            byte[] header = channel.Receive(8);
            Assert.Equal(1, header[0]);
            channel.Receive(X11Wire.SetupReplyLength(header) - 8);

            Assert.Equal(CrossDomainCommands.OkNoData, channel.Submit(CrossDomainCommands.GetImageRequirements(256, 16, CrossDomainCommands.DrmFormatArgb8888)));
            Span<byte> reply = gpu.Machine.Memory.GetSpan(channel.QueryRing.Address, 64);
            ulong size = BinaryPrimitives.ReadUInt64LittleEndian(reply[40..]);
            uint blob = gpu.NewResourceId();
            Assert.Equal(CrossDomainCommands.OkNoData, gpu.ControlType(CrossDomainCommands.CreateHostBlob(channel.ContextId, blob, BinaryPrimitives.ReadUInt32LittleEndian(reply[48..]), size)));
            Assert.Equal(CrossDomainCommands.OkNoData, gpu.ControlType(CrossDomainCommands.AttachResource(channel.ContextId, blob)));
            Assert.Equal(CrossDomainCommands.OkMapInfo, CrossDomainCommands.ResponseType(gpu.Control(CrossDomainCommands.MapBlob(blob, gpu.AllocateWindow(size)), 32)));

            uint futex = 0x5eed_1000 + channel.ContextId;
            Assert.Equal(CrossDomainCommands.OkNoData, channel.Submit(CrossDomainCommands.FutexNew(SharedFutexFile.FileSystemId, SharedFutexFile.Handle, futex)));
            channel.WaitForFutexSignal(futex);
            open.Add((channel, blob));
        }

        return open;
    }

    /// <summary>What a guest does when its clients go (CTX_DESTROY, then UNMAP and UNREF of the blobs), or a device reset.</summary>
    private static void Cleanup(List<(CrossDomainChannel Channel, uint Blob)> open, CrossDomainGuestGpu? reset)
    {
        if (reset is not null)
        {
            reset.Reset();
            return;
        }

        foreach ((CrossDomainChannel channel, uint blob) in open)
        {
            Assert.Equal(CrossDomainCommands.OkNoData, channel.Destroy());
            Assert.True(channel.PollReturned(TimeSpan.FromSeconds(10)), "the parked POLL did not come back at CTX_DESTROY");
            Assert.Equal(CrossDomainCommands.OkNoData, channel.Gpu.ControlType(CrossDomainCommands.UnmapBlob(blob)));
            Assert.Equal(CrossDomainCommands.OkNoData, channel.Gpu.ControlType(CrossDomainCommands.UnrefResource(blob)));
        }
    }

    private void AssertBackTo((int Fds, int Maps, int Threads) baseline, string[]? before = null)
    {
        // Watcher threads end before DESTROY answers, but the runtime may take a moment to reap a thread's stack.
        long deadline = Environment.TickCount64 + 10_000;
        (int Fds, int Maps, int Threads) now = Counts();
        while (now != baseline && Environment.TickCount64 < deadline)
        {
            Thread.Sleep(100);
            now = Counts();
        }

        Assert.True(baseline.Fds == now.Fds, $"descriptors {baseline.Fds} -> {now.Fds}: gone {string.Join(", ", (before ?? []).Except(FdTargets()))}; new {string.Join(", ", FdTargets().Except(before ?? []))}");
        Assert.Equal(baseline.Maps, now.Maps);
        Assert.Equal(baseline.Threads, now.Threads);
    }

    private static string[] FdTargets() => [.. Directory.GetFileSystemEntries("/proc/self/fd").Select(fd => $"{Path.GetFileName(fd)}={new FileInfo(fd).LinkTarget}")];

    /// <summary>
    /// All descriptors; the mappings of host blobs (the context's memfds) and of futex files; the context workers and
    /// futex watchers. Only these mappings and threads are counted: the runtime and glibc's stack cache move the totals.
    /// </summary>
    private (int Fds, int Maps, int Threads) Counts()
    {
        // Earlier tests' unreachable handles (process pipes, sockets) close when their finalizers run: run them now, so
        // a collection between the baseline and the check does not move the count (it dropped by 13 once).
        for (int i = 0; i < 2; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        return (Directory.GetFileSystemEntries("/proc/self/fd").Length,
            File.ReadLines("/proc/self/maps").Count(line => line.Contains("memfd:vmm-cross-domain", StringComparison.Ordinal) || line.Contains(_file.Path, StringComparison.Ordinal)),
            Directory.GetDirectories("/proc/self/task").Count(task => File.ReadAllText(Path.Combine(task, "comm")) is var name && (name.StartsWith("futex", StringComparison.Ordinal) || name.StartsWith("cross-domain", StringComparison.Ordinal))));
    }
}

/// <summary>Tests that count the whole process's descriptors, mappings and threads: nothing else runs meanwhile.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ResourceCountCollection
{
    public const string Name = "process resource counts";
}
