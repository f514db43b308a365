using Microsoft.Win32.SafeHandles;
using Vmm.Contracts.Virtio;

namespace Vmm.Core.Tests.Virtio.Execution;

/// <summary>What <see cref="LeakingDevice"/> keeps from each request.</summary>
internal enum Leak
{
    /// <summary>Opens /dev/null and keeps the handle.</summary>
    FileDescriptor,

    /// <summary>Starts a thread that waits until the device is disposed.</summary>
    Thread,

    /// <summary>Allocates <see cref="LeakingDevice.MemoryPerLeak"/> bytes and keeps them.</summary>
    Memory,

    /// <summary>Opens /dev/null and closes what the previous request opened: never more than one held.</summary>
    FileDescriptorClosedNextCall,
}

/// <summary>
/// A plugin with a leak: every request it serves (or, without queues, every call) keeps a resource. Its reset releases
/// them only when <see cref="ReleaseOnReset"/> is set, as a device with a leak that a reset cures would. Requests are
/// echoed back empty, so a driver sees each one used.
/// </summary>
internal sealed class LeakingDevice(Leak leak, string id = "leaky", VirtioDeviceType type = VirtioDeviceType.Console) : IVirtioDevice
{
    public const int MemoryPerLeak = 4 << 20;

    private readonly List<SafeFileHandle> _handles = [];
    private readonly List<byte[]> _memory = [];
    private readonly List<Thread> _threads = [];
    private readonly ManualResetEventSlim _release = new(false);
    private IVirtioDeviceContext? _context;
    private int _leaks;

    public string Id => id;

    public VirtioDeviceType DeviceType => type;

    public ulong DeviceFeatures => 0;

    public IReadOnlyList<ushort> QueueMaxSizes { get; } = [64];

    public IReadOnlyList<SharedMemoryRegionRequest> SharedMemoryRegions => [];

    public int ConfigSize => 0;

    public bool ReleaseOnReset { get; set; }

    /// <summary>How many times the device leaked so far.</summary>
    public int Leaks => Volatile.Read(ref _leaks);

    public void Activate(IVirtioDeviceContext context) => _context = context;

    public void ProcessQueue(int queueIndex)
    {
        if (_context is not { Queues.Count: > 0 } context)
        {
            LeakOnce();
            return;
        }

        IVirtqueue queue = context.Queues[queueIndex];
        bool pushed = false;
        while (queue.TryPop(out DescriptorChain? chain))
        {
            LeakOnce();
            queue.Push(chain, 0);
            pushed = true;
        }

        if (pushed)
        {
            queue.NotifyGuest();
        }
    }

    public void Reset()
    {
        _context = null;
        if (ReleaseOnReset)
        {
            Release();
        }
    }

    public void ReadConfig(int offset, Span<byte> data) => data.Clear();

    public void WriteConfig(int offset, ReadOnlySpan<byte> data)
    {
    }

    public void Dispose()
    {
        Release();
        foreach (Thread thread in _threads)
        {
            thread.Join();
        }

        _release.Dispose();
    }

    private void LeakOnce()
    {
        switch (leak)
        {
            case Leak.FileDescriptor:
                _handles.Add(File.OpenHandle("/dev/null"));
                break;
            case Leak.FileDescriptorClosedNextCall:
                _handles.ForEach(h => h.Dispose());
                _handles.Clear();
                _handles.Add(File.OpenHandle("/dev/null"));
                break;
            case Leak.Thread:
                var thread = new Thread(() => _release.Wait()) { IsBackground = true, Name = "leaked" };
                thread.Start();
                _threads.Add(thread);
                break;
            case Leak.Memory:
                byte[] block = new byte[MemoryPerLeak];
                Array.Fill(block, (byte)1); // touched, so it is really there
                _memory.Add(block);
                break;
        }

        Interlocked.Increment(ref _leaks);
    }

    private void Release()
    {
        _handles.ForEach(h => h.Dispose());
        _handles.Clear();
        _memory.Clear();
        _release.Set();
    }
}
