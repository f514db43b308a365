using Vmm.Core.Interrupts;

namespace Vmm.Plugins.VirtioInput.Tests;

internal sealed class RecordingInterruptLine : IInterruptLine
{
    private int _count;

    public int Count => Volatile.Read(ref _count);

    public void Signal() => Interlocked.Increment(ref _count);
}
