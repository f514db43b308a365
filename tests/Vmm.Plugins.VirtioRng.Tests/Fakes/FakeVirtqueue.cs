using System.Diagnostics.CodeAnalysis;
using Vmm.Contracts.Memory;
using Vmm.Contracts.Virtio;
using Vmm.Testing.Virtio;

namespace Vmm.Plugins.VirtioRng.Tests.Fakes;

/// <summary>A virtqueue whose requests the test builds by hand and whose answers it records.</summary>
internal sealed class FakeVirtqueue : IVirtqueue
{
    private readonly Queue<DescriptorChain> _available = new();
    private readonly IGuestMemory _memory;
    private ushort _nextHead;

    public FakeVirtqueue(IGuestMemory memory) => _memory = memory;

    public int Index => 0;

    public ushort Size => 256;

    public bool IsReady { get; set; } = true;

    public int Pending => _available.Count;

    public List<(ushort Head, uint BytesWritten)> Used { get; } = [];

    public int Notifications { get; private set; }

    /// <summary>Queues a request made of the given buffers (readable ones first) and returns its head index.</summary>
    public ushort Offer(GuestBuffer[] readable, GuestBuffer[] writable)
    {
        ushort head = _nextHead++;
        DescriptorChain chain = TestDescriptorChains.Create(_memory, head, readable, writable);
        _available.Enqueue(chain);
        return head;
    }

    public bool TryPop([NotNullWhen(true)] out DescriptorChain? chain) => _available.TryDequeue(out chain);

    public void Push(DescriptorChain chain, uint bytesWritten) => Used.Add((chain.HeadIndex, bytesWritten));

    public void NotifyGuest() => Notifications++;

    public void DisableNotifications()
    {
    }

    public bool EnableNotifications() => false;
}
