using Microsoft.Win32.SafeHandles;
using Vmm.Interop;
using Vmm.Testing.Diagnostics;
using Xunit;

namespace Vmm.Core.Tests.Interop;

public sealed unsafe class HostInteropTests
{
    [Fact]
    public void EventFdCountsSignalsAndReadsClearIt()
    {
        using SafeFileHandle eventFd = HostEventFd.Create(nonBlocking: true);
        Assert.False(HostEventFd.TryRead(eventFd, out _));
        HostEventFd.Signal(eventFd);
        HostEventFd.Signal(eventFd, 4);
        Assert.True(HostEventFd.TryRead(eventFd, out ulong value));
        Assert.Equal(5UL, value);
        Assert.False(HostEventFd.TryRead(eventFd, out _));
    }

    [Fact]
    public void SemaphoreEventFdHandsOutOneAtATime()
    {
        using SafeFileHandle eventFd = HostEventFd.Create(nonBlocking: true, semaphore: true, initialValue: 2);
        Assert.True(HostEventFd.TryRead(eventFd, out ulong first));
        Assert.True(HostEventFd.TryRead(eventFd, out ulong second));
        Assert.Equal((1UL, 1UL), (first, second));
        Assert.False(HostEventFd.TryRead(eventFd, out _));
    }

    [Fact]
    public void ProcessResourceReaderListsDescriptorsAndThreadsAndNamesWhatADescriptorIs()
    {
        using var reader = new ProcessResourceReader();
        int[] fds = new int[4]; // too small on purpose: the count says how many there are
        int count = reader.ReadOpenFds(fds);
        Assert.True(count > fds.Length, $"{count} descriptors");
        fds = new int[count + 64];

        using SafeFileHandle file = File.OpenHandle("/dev/null");
        int fd = (int)file.DangerousGetHandle();
        count = reader.ReadOpenFds(fds);
        Assert.Contains(fd, fds.AsSpan(0, count).ToArray());
        Assert.Contains(reader.OwnDescriptors.Fds, fds.AsSpan(0, count).ToArray());
        Assert.True(fds.AsSpan(0, count).SequenceEqual(fds.AsSpan(0, count).ToArray().Order().ToArray()), "not ascending");

        // Two opens of one file are the same file; another file is not.
        using SafeFileHandle again = File.OpenHandle("/dev/null");
        string otherPath = Path.GetTempFileName();
        using SafeFileHandle other = File.OpenHandle(otherPath);
        File.Delete(otherPath);
        Assert.True(ProcessResourceReader.TryGetIdentity(fd, out FileIdentity identity));
        Assert.True(ProcessResourceReader.TryGetIdentity((int)again.DangerousGetHandle(), out FileIdentity sameFile));
        Assert.True(ProcessResourceReader.TryGetIdentity((int)other.DangerousGetHandle(), out FileIdentity otherFile));
        Assert.Equal(identity, sameFile);
        Assert.NotEqual(identity, otherFile);
        Assert.NotEqual(0UL, identity.Inode);

        // Since Linux 6.2 the size of /proc/self/fd counts the descriptors: one more open, one more counted.
        if (reader.CountsAreCheap)
        {
            // Other tests open and close descriptors meanwhile: the two agree on one of a few tries. The kernel counts
            // allocated numbers, the listing installed files: the size here runs one above the listing.
            bool agreed = false;
            for (int i = 0; i < 20 && !agreed; i++)
            {
                agreed = Math.Abs(reader.FdCount() - reader.ReadOpenFds(fds)) <= 1;
            }

            Assert.True(agreed, $"the size of /proc/self/fd ({reader.FdCount()}) never matched its listing ({reader.ReadOpenFds(fds)})");
        }

        int[] tids = new int[4096];
        int threads = reader.ReadThreadIds(tids);
        Assert.Contains(Environment.ProcessId, tids.AsSpan(0, threads).ToArray()); // the main thread's id is the process's
        using var started = new ManualResetEventSlim();
        using var stop = new ManualResetEventSlim();
        int tid = 0;
        var thread = new Thread(() =>
        {
            // "PID/task/TID": the kernel's id of this thread.
            tid = int.Parse(Path.GetFileName(new DirectoryInfo("/proc/thread-self").LinkTarget!), System.Globalization.CultureInfo.InvariantCulture);
            started.Set();
            stop.Wait();
        })
        {
            Name = "own thread", // an unnamed thread takes its creator's name, here a thread pool worker's
        };
        thread.Start();
        started.Wait(TestContext.Current.CancellationToken);
        threads = reader.ReadThreadIds(tids);
        Assert.Contains(tid, tids.AsSpan(0, threads).ToArray());

        // A thread of our own is not the runtime's; the finalizer (".NET Finalizer") is; a tid that is gone is not.
        Assert.False(reader.IsRuntimeThread(tid));
        int[] runtimeThreads = [.. tids.AsSpan(0, threads).ToArray().Where(t => File.ReadAllText($"/proc/self/task/{t}/comm").Trim() is ".NET Finalizer" or ".NET TP Gate")];
        Assert.NotEmpty(runtimeThreads);
        Assert.All(runtimeThreads, t => Assert.True(reader.IsRuntimeThread(t)));
        Assert.False(reader.IsRuntimeThread(int.MaxValue));
        stop.Set();
        thread.Join();
    }

    [Fact]
    public void FailedCallsCarryErrno()
    {
        using SafeFileHandle eventFd = HostEventFd.Create(nonBlocking: true);

        // An eventfd counter cannot take 2^64-1: write fails with EINVAL.
        NativeCallException error = Assert.Throws<NativeCallException>(() => HostEventFd.Signal(eventFd, ulong.MaxValue));
        Assert.Equal(22, error.Errno);
        Assert.Equal("write(eventfd)", error.Operation);
    }

    [Fact]
    public void SharedMappingOfAMemoryFileIsReleasedOnDispose()
    {
        ulong page = HostMemory.PageSize;
        Assert.True(ulong.IsPow2(page));
        using SafeFileHandle file = HostMemory.CreateMemoryFile("interop-test", 2 * page);
        Assert.Equal(2 * (long)page, RandomAccess.GetLength(file));
        SafeMemoryMapping mapping = HostMemory.MapShared(file, (long)page, page, writable: true);
        Assert.Equal(page, mapping.Length);
        ((byte*)mapping.Address)[3] = 42;
        byte[] back = new byte[1];
        RandomAccess.Read(file, back, (long)page + 3);
        Assert.Equal(42, back[0]);

        string? line = ProcessMaps.Find(mapping.Address)?.Line;
        Assert.NotNull(line);
        mapping.Dispose();
        Assert.True(mapping.IsClosed);
        Assert.DoesNotContain(line, File.ReadLines("/proc/self/maps"));
    }

    [Fact]
    public void MappingBeyondAnInvalidOffsetFails()
    {
        using SafeFileHandle file = HostMemory.CreateMemoryFile("interop-test", HostMemory.PageSize);
        NativeCallException error = Assert.Throws<NativeCallException>(() => HostMemory.MapShared(file, 1, HostMemory.PageSize, writable: true));
        Assert.Equal(22, error.Errno);
    }
}
