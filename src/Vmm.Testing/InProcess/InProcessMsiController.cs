using System.Collections.Concurrent;
using Vmm.Core.Interrupts;

namespace Vmm.Testing.InProcess;

/// <summary>
/// The in-process machine's interrupt controller: every MSI a device sends is recorded and counted by its data
/// (the vector), and wakes whoever waits for that vector. A driver may also install a handler for its vector, which
/// runs on the thread that sent the message, as an interrupt handler runs on the CPU the interrupt reached, so a
/// driver's completion path needs no thread of its own to wake. Safe from any thread.
/// </summary>
public sealed class InProcessMsiController : IMsiController
{
    private const int MaxRecordedMessages = 4096;

    private readonly object _lock = new();
    private readonly Dictionary<uint, long> _counts = [];
    private readonly Queue<MsiMessage> _messages = new();
    private readonly ConcurrentDictionary<uint, Action> _handlers = new();
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

    /// <summary>
    /// Runs <paramref name="handler"/> after each message with data <paramref name="vector"/>, on the sending thread
    /// (a device's worker or a context's thread), after the message is counted and waiters are woken; null removes
    /// it. The handler must be short, must not throw and must not wait for anything the device's threads hold.
    /// </summary>
    public void SetHandler(uint vector, Action? handler)
    {
        if (handler is null)
        {
            _handlers.TryRemove(vector, out _);
        }
        else
        {
            _handlers[vector] = handler;
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

        if (_handlers.TryGetValue(data, out Action? handler))
        {
            handler();
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
