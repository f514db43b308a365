using System.Globalization;
using Vmm.Interop;

namespace Vmm.Core.Virtio.Execution;

/// <summary>
/// Counts, on a device's worker thread, what the device's calls take from the process and keep: file descriptors
/// and threads that appear during a call and are still there later, and managed bytes the worker allocates. The
/// kernel does not say which thread opened a descriptor, so a sampled call lists the process's descriptors and
/// threads before and after; what is new is the device's (a "suspect", remembered by number and, for a descriptor,
/// by the file it refers to) until it is gone. A suspect counts once for the call it was seen in; it also stands for
/// the unsampled calls before it only when the next sample repeats it (the suspect is still held then, and that
/// sampled call kept as many again): a steady leak is estimated from the calls the samples stand for, one sampling
/// gap late, while what another thread happened to open during one sampled call counts once each, as listing around
/// every call would count it, not once for every call the sample stands for. It falls back as soon as the device
/// closes what it opened. Listing is dear (tens to hundreds of microseconds), so a sampled call first reads two
/// counts (one statx each: the size of /proc/self/fd, the link count of /proc/self/task): the listing before the call
/// is redone only when the counts moved since the last one, and the listing after it only when the call raised them
/// (so a leak in a call during which another thread closed as many is missed; <see cref="DeviceLimits.SampleEvery"/>
/// 1 lists around every call and misses only a descriptor that reused the number of one another thread closed during
/// the call). Not thread-safe: only the worker calls it.
/// </summary>
internal sealed class DeviceResourceMeter : IDisposable
{
    private readonly DeviceLimits _limits;
    private readonly ProcessResourceReader _reader;
    private readonly int _readerFds;
    private readonly int _readerTasks;
    private readonly bool _countsAreCheap;
    private readonly bool _exact; // SampleEvery 1: every call listed before and after, whatever the counts say
    private readonly long _heapBaseline;
    private readonly Listing _fds = new(256);
    private readonly Listing _threads = new(64);
    private FdSuspect[] _fdSuspects = new FdSuspect[64];
    private ThreadSuspect[] _threadSuspects = new ThreadSuspect[16];
    private int _fdSuspectCount;
    private int _threadSuspectCount;
    private uint _random;
    private int _untilSample;
    private int _weight; // calls the schedule skipped since its last sample
    private int _sampleWeight; // the calls the call being sampled stands for
    private bool _sampling;
    private long _fdCountBefore;
    private long _threadCountBefore;
    private long _allocatedBefore;
    private int _gen2Seen;

    public DeviceResourceMeter(DeviceLimits limits, string deviceId)
    {
        _limits = limits;
        _reader = new ProcessResourceReader();
        (_readerFds, _readerTasks) = _reader.OwnDescriptors;
        _countsAreCheap = _reader.CountsAreCheap;
        _exact = limits.SampleEvery == 1;
        _random = (uint)HashCode.Combine(deviceId, Environment.TickCount) | 1;
        _untilSample = NextInterval();
        _heapBaseline = LiveHeapBytes();
        _gen2Seen = GC.CollectionCount(2);

        // Everything a sampled call runs the first time (P/Invoke stubs, the sort, statx) runs once here, so a call
        // on the worker allocates nothing the first time it samples either.
        Relist(_fds, FdCount());
        Relist(_threads, _reader.ThreadCount());
        _ = ProcessResourceReader.TryGetIdentity(_readerFds, out _);
    }

    /// <summary>Calls measured so far (activation and reset included).</summary>
    public long Calls { get; private set; }

    /// <summary>Managed bytes the device's calls allocated on the worker so far.</summary>
    public long Allocated { get; private set; }

    /// <summary>Estimated descriptors the device's calls opened that are still open (as of the last listing).</summary>
    public int HeldFileDescriptors => Sum(_fdSuspects, _fdSuspectCount);

    /// <summary>Estimated threads the device's calls started that are still alive (as of the last listing).</summary>
    public int HeldThreads => Sum(_threadSuspects, _threadSuspectCount);

    /// <summary>The calls the call in progress stands for while it is sampled (between Begin and End), else 0: for tests.</summary>
    internal int SampledCallWeight => _sampling ? _sampleWeight : 0;

    /// <summary>Before a call into the device; <paramref name="always"/> samples it whatever the schedule.</summary>
    public void Begin(bool always)
    {
        Calls++;
        if (always)
        {
            // Measured outside the schedule: stands for itself only (activation starts threads once, not per call).
            _sampling = true;
            _sampleWeight = 1;
        }
        else if (--_untilSample <= 0)
        {
            _sampling = true;
            _sampleWeight = _weight + 1;
            _weight = 0;
            _untilSample = NextInterval();
        }
        else
        {
            _weight++;
        }

        if (_sampling)
        {
            // The listings are the "before" only while the counts have not moved since they were taken.
            _fdCountBefore = FdCount();
            _threadCountBefore = _reader.ThreadCount();
            if (_exact || _fdCountBefore != _fds.CountAtListing)
            {
                Relist(_fds, _fdCountBefore);
                PruneFds();
            }

            if (_exact || _threadCountBefore != _threads.CountAtListing)
            {
                Relist(_threads, _threadCountBefore);
                PruneThreads();
            }
        }

        // Last, so the sampling above is not counted as the device's.
        _allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
    }

    /// <summary>After the call: null while the device is within its limits, else why it is not.</summary>
    public string? End()
    {
        Allocated += GC.GetAllocatedBytesForCurrentThread() - _allocatedBefore;
        if (!_sampling)
        {
            return CheckHeap();
        }

        _sampling = false;
        long fdCount = FdCount();
        int knownFds = _fdSuspectCount;
        if (_exact || fdCount > _fdCountBefore)
        {
            int[] before = _fds.Current(out int beforeCount);
            Relist(_fds, fdCount);
            PruneFds();
            knownFds = _fdSuspectCount;
            AddNewFds(before, beforeCount);
        }

        Settle(_fdSuspects, knownFds, repeated: _fdSuspectCount - knownFds);

        long threadCount = _reader.ThreadCount();
        int knownThreads = _threadSuspectCount;
        if (_exact || threadCount > _threadCountBefore)
        {
            int[] before = _threads.Current(out int beforeCount);
            Relist(_threads, threadCount);
            PruneThreads();
            knownThreads = _threadSuspectCount;
            AddNewThreads(before, beforeCount);
        }

        Settle(_threadSuspects, knownThreads, repeated: _threadSuspectCount - knownThreads);

        if (HeldFileDescriptors > _limits.FileDescriptors)
        {
            // Decide on a fresh listing, and on what each descriptor refers to now: a number the device closed may
            // have been reused by someone else.
            Relist(_fds, FdCount());
            PruneFds();
            PruneReusedFds();
            int fds = HeldFileDescriptors;
            if (fds > _limits.FileDescriptors)
            {
                return string.Create(CultureInfo.InvariantCulture, $"leaked {Approximately(_fdSuspects, _fdSuspectCount)}{fds} file descriptors across {Calls} calls (limit {_limits.FileDescriptors})");
            }
        }

        if (HeldThreads > _limits.Threads)
        {
            Relist(_threads, _reader.ThreadCount());
            PruneThreads();
            int threads = HeldThreads;
            if (threads > _limits.Threads)
            {
                return string.Create(CultureInfo.InvariantCulture, $"leaked {Approximately(_threadSuspects, _threadSuspectCount)}{threads} threads across {Calls} calls (limit {_limits.Threads})");
            }
        }

        return CheckHeap();
    }

    public void Dispose() => _reader.Dispose();

    // The live heap (after the last full collection) and what the device allocated both past the limit: the device
    // may hold that much. Looked at once per full collection, since asking the GC allocates.
    private string? CheckHeap()
    {
        if (Allocated < _limits.ManagedBytes || GC.CollectionCount(2) == _gen2Seen)
        {
            return null;
        }

        _gen2Seen = GC.CollectionCount(2);
        long grown = LiveHeapBytes() - _heapBaseline;
        return grown < _limits.ManagedBytes
            ? null
            : string.Create(CultureInfo.InvariantCulture, $"may hold {Mib(grown)} MiB of managed memory: the live heap grew by that much while it allocated {Mib(Allocated)} MiB across {Calls} calls (limit {Mib(_limits.ManagedBytes)} MiB)");
    }

    private static long LiveHeapBytes()
    {
        GCMemoryInfo blocking = GC.GetGCMemoryInfo(GCKind.FullBlocking);
        GCMemoryInfo background = GC.GetGCMemoryInfo(GCKind.Background);
        GCMemoryInfo last = blocking.Index >= background.Index ? blocking : background;
        return last.Index == 0 ? GC.GetTotalMemory(forceFullCollection: false) : last.HeapSizeBytes - last.FragmentedBytes;
    }

    private static long Mib(long bytes) => bytes >> 20;

    // Before Linux 6.2 the size of /proc/self/fd is 0: counting then means listing.
    private long FdCount() => _countsAreCheap ? _reader.FdCount() : _reader.ReadOpenFds([]);

    private void Relist(Listing listing, long countNow)
    {
        listing.Count = ReadAll(threads: ReferenceEquals(listing, _threads), listing);
        listing.CountAtListing = countNow;
    }

    private int ReadAll(bool threads, Listing into)
    {
        int count = threads ? _reader.ReadThreadIds(into.Spare) : _reader.ReadOpenFds(into.Spare);
        while (count > into.Spare.Length)
        {
            into.Spare = new int[count * 2]; // the process grew: rare, and the array stays
            count = threads ? _reader.ReadThreadIds(into.Spare) : _reader.ReadOpenFds(into.Spare);
        }

        into.Promote();
        return count;
    }

    private void AddNewFds(int[] before, int beforeCount)
    {
        int b = 0;
        for (int a = 0; a < _fds.Count; a++)
        {
            int fd = _fds.Items[a];
            while (b < beforeCount && before[b] < fd)
            {
                b++;
            }

            if ((b < beforeCount && before[b] == fd) || fd == _readerFds || fd == _readerTasks || !ProcessResourceReader.TryGetIdentity(fd, out FileIdentity identity))
            {
                continue;
            }

            if (_fdSuspectCount == _fdSuspects.Length)
            {
                Array.Resize(ref _fdSuspects, _fdSuspects.Length * 2);
            }

            _fdSuspects[_fdSuspectCount++] = new FdSuspect(fd, identity, Weight: 1, Pending: _sampleWeight - 1);
        }
    }

    private void AddNewThreads(int[] before, int beforeCount)
    {
        int b = 0;
        for (int a = 0; a < _threads.Count; a++)
        {
            int tid = _threads.Items[a];
            while (b < beforeCount && before[b] < tid)
            {
                b++;
            }

            // The runtime's own threads (thread pool, timers) start for whoever queues work: weighted as a sample,
            // a few of them read as hundreds of leaked threads (a real guest's virtio-fs device was failed so).
            if ((b < beforeCount && before[b] == tid) || _reader.IsRuntimeThread(tid))
            {
                continue;
            }

            if (_threadSuspectCount == _threadSuspects.Length)
            {
                Array.Resize(ref _threadSuspects, _threadSuspects.Length * 2);
            }

            _threadSuspects[_threadSuspectCount++] = new ThreadSuspect(tid, Weight: 1, Pending: _sampleWeight - 1);
        }
    }

    // The previous sampled call's suspects (the only ones pending: every sampled call settles them) stand for the
    // calls before it only as far as this sampled call repeats them: as many as it kept, each still what it was.
    // Otherwise they count once: a stray descriptor another thread opened during one sampled call is not
    // extrapolated, and neither is one the device closed again within the gap (it held it, it did not leak it).
    private static void Settle<T>(T[] suspects, int count, int repeated)
        where T : struct, ISuspect<T>
    {
        for (int i = 0; i < count; i++)
        {
            if (suspects[i].Pending > 0)
            {
                bool confirmed = repeated > 0 && suspects[i].IsUnchanged();
                repeated -= confirmed ? 1 : 0;
                suspects[i] = suspects[i].Settled(confirmed);
            }
        }
    }

    private void PruneFds()
    {
        int kept = 0;
        for (int i = 0; i < _fdSuspectCount; i++)
        {
            if (Array.BinarySearch(_fds.Items, 0, _fds.Count, _fdSuspects[i].Fd) >= 0)
            {
                _fdSuspects[kept++] = _fdSuspects[i];
            }
        }

        _fdSuspectCount = kept;
    }

    private void PruneReusedFds()
    {
        int kept = 0;
        for (int i = 0; i < _fdSuspectCount; i++)
        {
            if (ProcessResourceReader.TryGetIdentity(_fdSuspects[i].Fd, out FileIdentity now) && now == _fdSuspects[i].Identity)
            {
                _fdSuspects[kept++] = _fdSuspects[i];
            }
        }

        _fdSuspectCount = kept;
    }

    private void PruneThreads()
    {
        int kept = 0;
        for (int i = 0; i < _threadSuspectCount; i++)
        {
            if (Array.BinarySearch(_threads.Items, 0, _threads.Count, _threadSuspects[i].Tid) >= 0)
            {
                _threadSuspects[kept++] = _threadSuspects[i];
            }
        }

        _threadSuspectCount = kept;
    }

    // Uniform in [1, 2 * SampleEvery - 1]: a mean of SampleEvery, and no fixed period a device's own pattern could
    // fall in step with (a leak on every 64th call, never sampled).
    private int NextInterval()
    {
        if (_limits.SampleEvery == 1)
        {
            return 1;
        }

        _random ^= _random << 13;
        _random ^= _random >> 17;
        _random ^= _random << 5;
        return 1 + (int)(_random % (uint)((2 * _limits.SampleEvery) - 1));
    }

    private static int Sum<T>(T[] suspects, int count)
        where T : struct, ISuspect<T>
    {
        int sum = 0;
        for (int i = 0; i < count; i++)
        {
            sum += suspects[i].Weight;
        }

        return sum;
    }

    private static string Approximately<T>(T[] suspects, int count)
        where T : struct, ISuspect<T>
    {
        for (int i = 0; i < count; i++)
        {
            if (suspects[i].Weight > 1)
            {
                return "about ";
            }
        }

        return "";
    }

    private interface ISuspect<T>
        where T : struct, ISuspect<T>
    {
        /// <summary>The calls it counts for: its own, and once settled, the calls before it its sample stood for.</summary>
        int Weight { get; }

        /// <summary>The calls before it its sample stood for, until the next sampled call confirms or denies them.</summary>
        int Pending { get; }

        /// <summary>Whether it is still what was seen (a descriptor: the same file); only asked of a held suspect.</summary>
        bool IsUnchanged();

        /// <summary>Nothing pending any more: added to the weight when confirmed, else dropped.</summary>
        T Settled(bool confirmed);
    }

    private readonly record struct FdSuspect(int Fd, FileIdentity Identity, int Weight, int Pending) : ISuspect<FdSuspect>
    {
        public bool IsUnchanged() => ProcessResourceReader.TryGetIdentity(Fd, out FileIdentity now) && now == Identity;

        public FdSuspect Settled(bool confirmed) => this with { Weight = confirmed ? Weight + Pending : Weight, Pending = 0 };
    }

    private readonly record struct ThreadSuspect(int Tid, int Weight, int Pending) : ISuspect<ThreadSuspect>
    {
        public bool IsUnchanged() => true; // a thread id is reused only after the thread is gone and many others started

        public ThreadSuspect Settled(bool confirmed) => this with { Weight = confirmed ? Weight + Pending : Weight, Pending = 0 };
    }

    /// <summary>The last listing (sorted) and a spare array the next one is read into; they trade places.</summary>
    private sealed class Listing(int capacity)
    {
        public int[] Items = new int[capacity];
        public int[] Spare = new int[capacity];
        public int Count;
        public long CountAtListing = -1;

        /// <summary>The spare holds a new listing: it becomes the current one.</summary>
        public void Promote() => (Items, Spare) = (Spare, Items);

        /// <summary>The current listing, to diff against the next (read into the other array, so this one stays).</summary>
        public int[] Current(out int count)
        {
            count = Count;
            return Items;
        }
    }
}
