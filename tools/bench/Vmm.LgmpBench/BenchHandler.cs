using System.Diagnostics;
using Vmm.Contracts.Display;
using Vmm.Plugins.Ivshmem.Kvmfr;
using Vmm.Plugins.Ivshmem.Lgmp;

namespace Vmm.LgmpBench;

/// <summary>A display-like consumer handler: one frame buffer, a count and the time of the last copy-out.</summary>
internal sealed class BenchHandler(int width, int height) : IKvmfrConsumerHandler
{
    private readonly byte[] _frame = new byte[width * height * 4];
    private long _received;
    private long _lastTimestamp;

    public long Received => Volatile.Read(ref _received);

    public long LastTimestamp => Volatile.Read(ref _lastTimestamp);

    public bool Connected { get; private set; }

    public void SessionStarted(KvmfrHeader header) => Connected = true;

    public void SessionLost(LgmpStatus reason)
    {
        Connected = false;
        Console.Error.WriteLine($"consumer lost its session: {reason}");
    }

    public void ModeChanged(in KvmfrFrameInfo frame)
    {
    }

    public Span<byte> GetFrameBuffer(in KvmfrFrameInfo frame) => _frame;

    public void FrameReceived(in KvmfrFrameInfo frame, ReadOnlySpan<DamageRect> damage)
    {
        Volatile.Write(ref _lastTimestamp, Stopwatch.GetTimestamp());
        Interlocked.Increment(ref _received);
    }

    public void CursorShapeChanged(in KvmfrCursorShape shape, ReadOnlySpan<byte> bgra)
    {
    }

    public void CursorMoved(in KvmfrCursorState state)
    {
    }
}
