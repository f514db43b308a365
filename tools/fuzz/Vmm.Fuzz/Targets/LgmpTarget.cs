using Vmm.Contracts.Display;
using Vmm.Fuzz.Harness;
using Vmm.Plugins.Ivshmem.Kvmfr;
using Vmm.Plugins.Ivshmem.Lgmp;
using Vmm.Plugins.Ivshmem.SharedMemory;

namespace Vmm.Fuzz.Targets;

/// <summary>
/// The LGMP/KVMFR consumer over a hostile shared region. Each input starts from a region our producer set up (a
/// live session, as the guest's Looking Glass host writes it) and is then a list of operations: overwrite bytes
/// anywhere in the region (the guest can), poll the consumer, advance the clock, let the producer post a frame, a
/// cursor shape or a heartbeat. Expected: the consumer drops frames and reports a lost or corrupted session.
/// A finding: any exception out of <c>Poll</c>, or a frame or cursor handed on that does not fit what it says.
/// </summary>
public sealed unsafe class LgmpTarget : FuzzTarget
{
    private const long RegionSize = 4L << 20;
    private const int FrameSide = 32;

    private static readonly KvmfrConsumerOptions s_consumerOptions = new() { StartupWait = TimeSpan.Zero };
    private static readonly byte[] s_pixels = [.. Enumerable.Range(0, FrameSide * FrameSide * 4).Select(i => (byte)i)];

    private readonly SharedRegion _region = SharedRegion.AllocateNative(RegionSize);
    private readonly Handler _handler = new();

    /// <inheritdoc/>
    public override string Name => "lgmp";

    /// <inheritdoc/>
    public override void Run(ReadOnlySpan<byte> input)
    {
        new Span<byte>(_region.Pointer, (int)RegionSize).Clear();
        var time = new SteppingTimeProvider();
        var options = new KvmfrProducerOptions { HeartbeatThread = false, SetCursorPosition = true };
        using var producer = new KvmfrProducer(_region, options, time);
        var consumer = new KvmfrConsumer(_region, s_consumerOptions, time);
        var reader = new FuzzInput(input);
        while (!reader.IsEmpty)
        {
            switch (reader.U8() % 6)
            {
                case 0:
                    long offset = reader.U32() % RegionSize;
                    ReadOnlySpan<byte> patch = reader.Bytes(1 + (reader.U8() % 16));
                    int length = (int)Math.Min(patch.Length, RegionSize - offset);
                    patch[..length].CopyTo(new Span<byte>(_region.Pointer + offset, length));
                    break;
                case 1:
                    consumer.Poll(_handler);
                    break;
                case 2:
                    time.Advance(TimeSpan.FromMilliseconds(reader.U16()));
                    break;
                case 3:
                    TryProducer(() => producer.SubmitFrame(FrameSide, FrameSide, FrameType.Bgra, s_pixels, FrameSide * 4, [new DamageRect(0, 0, 8, 8)]));
                    break;
                case 4:
                    TryProducer(() => producer.SetCursorShape(CursorType.Color, 4, 4, 16, 1, 1, s_pixels.AsSpan(0, 64)));
                    break;
                default:
                    TryProducer(() => producer.Heartbeat());
                    consumer.RequestCursorPosition(reader.U16(), reader.U16());
                    break;
            }
        }

        consumer.Poll(_handler);
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _region.Dispose();
        }
    }

    // The producer is not under test (the guest runs its own); whatever the patches did to it is ignored.
#pragma warning disable CA1031
    private static void TryProducer(Action action)
    {
        try
        {
            action();
        }
        catch (Exception)
        {
        }
    }
#pragma warning restore CA1031

    private sealed class SteppingTimeProvider : TimeProvider
    {
        private long _ticks = TimeSpan.TicksPerDay;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks += TimeSpan.TicksPerMillisecond;

        public override DateTimeOffset GetUtcNow() => new(GetTimestamp(), TimeSpan.Zero);

        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }

    private sealed class Handler : IKvmfrConsumerHandler
    {
        private readonly byte[] _frame = new byte[FrameSide * FrameSide * 4 * 4];

        public void SessionStarted(KvmfrHeader header)
        {
        }

        public void SessionLost(LgmpStatus reason)
        {
        }

        public void ModeChanged(in KvmfrFrameInfo frame)
        {
        }

        public Span<byte> GetFrameBuffer(in KvmfrFrameInfo frame) => _frame;

        public void FrameReceived(in KvmfrFrameInfo frame, ReadOnlySpan<DamageRect> damage)
        {
            foreach (DamageRect rect in damage)
            {
                if (rect.X < 0 || rect.Y < 0 || rect.Width < 0 || rect.Height < 0 || rect.X + rect.Width > frame.Format.Width || rect.Y + rect.Height > frame.Format.Height)
                {
                    throw new FuzzFindingException($"a damage rectangle {rect} outside the {frame.Format.Width}x{frame.Format.Height} frame was handed on");
                }
            }
        }

        public void CursorShapeChanged(in KvmfrCursorShape shape, ReadOnlySpan<byte> bgra)
        {
        }

        public void CursorMoved(in KvmfrCursorState state)
        {
        }
    }
}
