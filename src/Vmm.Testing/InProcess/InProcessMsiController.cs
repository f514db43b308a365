using Vmm.Core.Interrupts;

namespace Vmm.Testing.InProcess;

/// <summary>
/// The in-process machine's interrupt controller: every MSI a device sends is recorded and counted by its data
/// (the vector), and wakes whoever waits for that vector. Safe from any thread.
/// </summary>
public sealed class InProcessMsiController : IMsiController
{
    private const int MaxRecordedMessages = 4096;

    private readonly object _lock = new();
    private readonly Dictionary<uint, long> _counts = [];
    private readonly Queue<MsiMessage> _messages = new();
    private uint _nextVector = 0x30;

    /// <summary>The most recent messages (at most 4096), oldest first.</summary>
    public IReadOnlyList<MsiMessage> Messages
    {
        get
        {
            lock (_lock)
            {
                return [.. _messages];
            }
        }
    }

    /// <inheritdoc />
    public IMsiVector CreateVector() => new Vector(this);

    /// <summary>Reserves <paramref name="count"/> consecutive interrupt vectors for a driver; returns the first.</summary>
    public uint AllocateVectors(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        lock (_lock)
        {
            uint first = _nextVector;
            _nextVector += (uint)count;
            return first;
        }
    }

    /// <summary>How many messages with data <paramref name="vector"/> arrived so far.</summary>
    public long GetSignalCount(uint vector)
    {
        lock (_lock)
        {
            return _counts.GetValueOrDefault(vector);
        }
    }

    /// <summary>
    /// Waits until more than <paramref name="seenCount"/> messages with data <paramref name="vector"/> arrived.
    /// Returns false on timeout.
    /// </summary>
    public bool WaitForSignal(uint vector, long seenCount, TimeSpan timeout)
    {
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        lock (_lock)
        {
            while (_counts.GetValueOrDefault(vector) <= seenCount)
            {
                long remaining = deadline - Environment.TickCount64;
                if (remaining <= 0 || !Monitor.Wait(_lock, TimeSpan.FromMilliseconds(remaining)))
                {
                    return _counts.GetValueOrDefault(vector) > seenCount;
                }
            }

            return true;
        }
    }

    private void Record(ulong address, uint data)
    {
        lock (_lock)
        {
            _counts[data] = _counts.GetValueOrDefault(data) + 1;
            if (_messages.Count == MaxRecordedMessages)
            {
                _messages.Dequeue();
            }

            _messages.Enqueue(new MsiMessage(address, data));
            Monitor.PulseAll(_lock);
        }
    }

    private sealed class Vector(InProcessMsiController controller) : IMsiVector
    {
        private ulong _address;
        private uint _data;

        public void Configure(ulong address, uint data)
        {
            Volatile.Write(ref _address, address);
            Volatile.Write(ref _data, data);
        }

        public void Signal() => controller.Record(Volatile.Read(ref _address), Volatile.Read(ref _data));

        public void Dispose()
        {
        }
    }
}
