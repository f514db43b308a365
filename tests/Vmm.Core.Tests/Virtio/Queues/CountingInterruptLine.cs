using Vmm.Core.Interrupts;

namespace Vmm.Core.Tests.Virtio.Queues;

/// <summary>An interrupt line that counts its signals.</summary>
internal sealed class CountingInterruptLine : IInterruptLine
{
    private int _count;

    public int Count => Volatile.Read(ref _count);

    public void Signal() => Interlocked.Increment(ref _count);
}
