using Vmm.Contracts.Memory;
using Vmm.Contracts.Virtio;
using Vmm.Core.Interrupts;
using Vmm.Core.Memory;
using Vmm.Core.Virtio.Queues;
using Vmm.Fuzz.Harness;

namespace Vmm.Fuzz.Targets;

/// <summary>
/// Split-virtqueue walking: the input is a 4-byte header (queue size exponent, ring features, next available
/// index) and then an image of guest memory from address 0, which holds the descriptor table at
/// <see cref="DescriptorTable"/>, the available ring at <see cref="AvailableRing"/>, indirect tables and buffers
/// anywhere. One queue over one guest memory is reused: per input it is reset (a queue reset, not a device
/// reset) and enabled again, then every chain the driver published is popped, read, written and pushed back.
/// Expected: <see cref="VirtioProtocolException"/>. A finding: any other exception.
/// </summary>
public sealed class VirtqueueTarget : FuzzTarget
{
    /// <summary>Where the descriptor table is (16 entries at most: 256 bytes).</summary>
    public const ulong DescriptorTable = 0x0;

    /// <summary>Where the available ring is.</summary>
    public const ulong AvailableRing = 0x100;

    /// <summary>Where the used ring is.</summary>
    public const ulong UsedRing = 0x200;

    private const ulong MemorySize = 0x10000;
    private const int MaxQueueSize = 16;

    private readonly GuestMemory _memory = GuestMemory.Create(MemorySize);
    private readonly SplitVirtqueue _queue;
    private readonly byte[] _scratch = new byte[MemorySize];

    /// <summary>Creates the memory and the queue once.</summary>
    public VirtqueueTarget()
    {
        _queue = new SplitVirtqueue(_memory, 0, MaxQueueSize, new NoInterruptLine());
    }

    /// <inheritdoc/>
    public override string Name => "virtqueue";

    /// <inheritdoc/>
    public override void Run(ReadOnlySpan<byte> input)
    {
        var reader = new FuzzInput(input);
        ushort size = (ushort)(1 << (reader.U8() % 5));
        byte features = reader.U8();
        ushort nextAvailable = reader.U16();
        ReadOnlySpan<byte> image = reader.Bytes((int)MemorySize);

        Span<byte> all = _memory.GetSpan(0, (int)MemorySize);
        all.Clear();
        image.CopyTo(all);

        _queue.Reset();
        _queue.TrySetSize(size);
        _queue.DescriptorTableAddress = DescriptorTable;
        _queue.AvailableRingAddress = AvailableRing;
        _queue.UsedRingAddress = UsedRing;
        _queue.NextAvailableIndex = nextAvailable;
        ulong negotiated = ((features & 1) != 0 ? VirtioFeatures.RingIndirectDescriptors : 0)
            | ((features & 2) != 0 ? VirtioFeatures.RingEventIndex : 0);
        try
        {
            _queue.Enable(negotiated);
            bool batch = (features & 4) != 0;
            List<DescriptorChain> held = [];
            for (int i = 0; i < 4 * MaxQueueSize && _queue.TryPop(out DescriptorChain? chain); i++)
            {
                Consume(chain);
                if (batch)
                {
                    held.Add(chain);
                }
                else
                {
                    _queue.Push(chain, (uint)Math.Min(chain.WritableLength, 7));
                }
            }

            foreach (DescriptorChain chain in held)
            {
                _queue.Push(chain, (uint)chain.WritableLength);
            }

            _queue.NotifyGuest();
        }
        catch (VirtioProtocolException)
        {
            // The queue refused what the driver published: the device would be reset.
        }
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _memory.Dispose();
        }
    }

    private void Consume(DescriptorChain chain)
    {
        int readable = (int)Math.Min(chain.ReadableLength, _scratch.Length);
        if (chain.Read(0, _scratch.AsSpan(0, readable)) != readable)
        {
            throw new FuzzFindingException($"chain {chain.HeadIndex} promised {readable} readable bytes and gave fewer");
        }

        int writable = (int)Math.Min(chain.WritableLength, _scratch.Length);
        if (chain.Write(0, _scratch.AsSpan(0, writable)) != writable)
        {
            throw new FuzzFindingException($"chain {chain.HeadIndex} promised {writable} writable bytes and took fewer");
        }
    }

    private sealed class NoInterruptLine : IInterruptLine
    {
        public void Signal()
        {
        }
    }
}
