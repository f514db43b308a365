using System.Diagnostics.CodeAnalysis;
using Vmm.Contracts.Memory;
using Vmm.Contracts.Virtio;

namespace Vmm.Plugins.VirtioRng.Tests.Fakes;

/// <summary>An activated device's surroundings: guest memory, one queue, and a record of scheduled queue runs.</summary>
internal sealed class FakeVirtioDeviceContext : IVirtioDeviceContext, IDisposable
{
    private int _scheduled;

    public FakeVirtioDeviceContext(int memorySize = 64 * 1024)
    {
        GuestMemory = new FakeGuestMemory(0x10000, memorySize);
        Queue = new FakeVirtqueue(GuestMemory);
        Queues = [Queue];
    }

    public FakeGuestMemory GuestMemory { get; }

    public FakeVirtqueue Queue { get; }

    public ulong NegotiatedFeatures => VirtioFeatures.Version1;

    public IGuestMemory Memory => GuestMemory;

    public IReadOnlyList<IVirtqueue> Queues { get; }

    public int Scheduled => Volatile.Read(ref _scheduled);

    public SemaphoreSlim ScheduledSignal { get; } = new(0);

    public bool TryGetSharedMemory(byte id, [NotNullWhen(true)] out ISharedMemoryRegion? region)
    {
        region = null;
        return false;
    }

    public void ScheduleQueue(int queueIndex)
    {
        Interlocked.Increment(ref _scheduled);
        ScheduledSignal.Release();
    }

    public void SignalConfigChanged()
    {
    }

    public void Dispose() => ScheduledSignal.Dispose();
}
