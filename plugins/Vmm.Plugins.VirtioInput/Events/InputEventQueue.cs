using Vmm.Contracts.Input;

namespace Vmm.Plugins.VirtioInput.Events;

/// <summary>
/// A bounded FIFO of events waiting for eventq buffers. When full, the oldest whole frame (events up to and
/// including the first SYN_REPORT) is dropped to make room; when the queue holds no complete frame, the oldest
/// event goes. Not thread-safe: the device guards it. Allocates nothing after construction.
/// </summary>
internal sealed class InputEventQueue
{
    private readonly InputEvent[] _ring;
    private int _head;
    private int _count;

    public InputEventQueue(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _ring = new InputEvent[capacity];
    }

    public int Capacity => _ring.Length;

    public int Count => _count;

    /// <summary>Appends <paramref name="events"/>; returns how many older events were dropped to fit them.</summary>
    public int Enqueue(ReadOnlySpan<InputEvent> events)
    {
        int dropped = 0;
        foreach (InputEvent inputEvent in events)
        {
            if (_count == _ring.Length)
            {
                int frame = FirstFrameLength();
                int drop = frame == 0 ? 1 : frame;
                RemoveFirst(drop);
                dropped += drop;
            }

            _ring[(_head + _count) % _ring.Length] = inputEvent;
            _count++;
        }

        return dropped;
    }

    /// <summary>The length of the oldest complete frame including its SYN_REPORT; 0 when none is complete.</summary>
    public int FirstFrameLength()
    {
        for (int i = 0; i < _count; i++)
        {
            if (IsSynReport(_ring[(_head + i) % _ring.Length]))
            {
                return i + 1;
            }
        }

        return 0;
    }

    /// <summary>The event <paramref name="index"/> places from the oldest.</summary>
    public InputEvent this[int index] => _ring[(_head + index) % _ring.Length];

    public void RemoveFirst(int count)
    {
        count = Math.Min(count, _count);
        _head = (_head + count) % _ring.Length;
        _count -= count;
    }

    public void Clear()
    {
        _head = 0;
        _count = 0;
    }

    private static bool IsSynReport(InputEvent inputEvent) =>
        inputEvent.Type == InputEventTypes.Syn && inputEvent.Code == EvdevCodes.SynReport;
}
