using System.Diagnostics;
using Vmm.Contracts.Display;
using Vmm.Plugins.Ivshmem.Kvmfr;
using Vmm.Plugins.Ivshmem.Lgmp;
using Vmm.Plugins.Ivshmem.SharedMemory;

namespace Vmm.Plugins.Ivshmem.Tests;

/// <summary>The production shape: a memfd, the real clock, the producer's own heartbeat thread, a polling consumer thread.</summary>
public sealed class KvmfrRealClockTests
{
    private static readonly KvmfrConsumerOptions s_patient = new() { HeartbeatTimeout = TimeSpan.FromSeconds(10), FrameWaitTimeout = TimeSpan.FromSeconds(2) };

    [Fact]
    public void AConsumerThreadReceivesFramesFromAProducerWithItsOwnHeartbeat()
    {
        using SharedMemoryFile file = SharedMemoryFile.CreateAnonymous("lgmp-real-clock", 16 << 20);
        using SharedRegion region = SharedRegion.Over(file);
        // Generous timeouts: a 2-core box shared with other builds can starve a thread for a while.
        using var producer = new KvmfrProducer(region, new KvmfrProducerOptions { SubscriberTimeout = TimeSpan.FromSeconds(10) }, TimeProvider.System);
        var consumer = new KvmfrConsumer(region, s_patient, TimeProvider.System);
        var handler = new RecordingHandler();
        using var stop = new CancellationTokenSource();
        var reader = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                consumer.Poll(handler);
                Thread.Sleep(1);
            }
        });
        reader.Start();
        try
        {
            var image = new Image(800, 600, 21);
            Assert.True(WaitUntil(() => consumer.State == KvmfrConsumerState.Connected), $"not connected: {consumer.LastError}");
            Assert.Equal(KvmfrSubmitResult.Posted, producer.SubmitFrame(800, 600, FrameType.Bgra, image.Pixels, 800 * 4, []));
            for (int i = 1; i <= 20; i++)
            {
                DamageRect rect = image.Paint(new DamageRect(i * 30, i * 20, 40, 30), i);
                while (producer.SubmitFrame(800, 600, FrameType.Bgra, image.Pixels, 800 * 4, [rect]) != KvmfrSubmitResult.Posted)
                {
                    rect = new DamageRect(0, 0, 0, 0); // the deferred frame's damage is kept: resubmit with none new
                }
            }

            Assert.True(WaitUntil(() => consumer.FramesReceived == producer.FramesPosted), $"{consumer.FramesReceived} of {producer.FramesPosted} frames");
            stop.Cancel();
            reader.Join();
            Assert.Equal(image.Pixels, handler.Frame);
            Assert.Empty(handler.Losses);
            Assert.Null(producer.LastHeartbeatError);
        }
        finally
        {
            stop.Cancel();
            reader.Join();
        }
    }

    [Fact]
    public void TwoConsumerThreadsSeeEveryStreamedFrameExactly()
    {
        // Producer, heartbeat and two consumers on their own threads: each frame is checked, as copied, against the
        // image submitted under its serial (post-then-stream, wp waits and per-buffer damage under real concurrency).
        const int Width = 160;
        const int Height = 100;
        using SharedMemoryFile file = SharedMemoryFile.CreateAnonymous("lgmp-streaming", 8 << 20);
        using SharedRegion region = SharedRegion.Over(file);
        using var producer = new KvmfrProducer(region, new KvmfrProducerOptions { SubscriberTimeout = TimeSpan.FromSeconds(10), MaxFrameWait = TimeSpan.FromMilliseconds(20) }, TimeProvider.System);
        var expected = new System.Collections.Concurrent.ConcurrentDictionary<uint, byte[]>();
        var consumers = new[] { new CheckingReader(region, expected), new CheckingReader(region, expected) };
        try
        {
            Assert.True(WaitUntil(() => consumers.All(c => c.Consumer.State == KvmfrConsumerState.Connected)), "consumers did not connect");
            var image = new Image(Width, Height, 40);
            var random = new Random(41);
            for (int i = 0; i < 300; i++)
            {
                DamageRect[] damage = i == 0 ? [] : [image.Paint(new DamageRect(random.Next(Width - 10), random.Next(Height - 10), random.Next(1, 30), random.Next(1, 30)), i)];
                expected[(uint)producer.FramesPosted + 1] = (byte[])image.Pixels.Clone();
                while (producer.SubmitFrame(Width, Height, FrameType.Bgra, image.Pixels, Width * 4, damage) != KvmfrSubmitResult.Posted)
                {
                    damage = [new DamageRect(0, 0, 0, 0)];
                }
            }

            Assert.True(WaitUntil(() => consumers.All(c => c.Consumer.FramesReceived >= producer.FramesPosted)),
                $"received {string.Join(", ", consumers.Select(c => c.Consumer.FramesReceived))} of {producer.FramesPosted}");
        }
        finally
        {
            foreach (CheckingReader consumer in consumers)
            {
                consumer.Dispose();
            }
        }

        foreach (CheckingReader consumer in consumers)
        {
            Assert.Equal(0, consumer.Mismatches);
            Assert.Equal(producer.FramesPosted, consumer.Checked);
        }
    }

    private static bool WaitUntil(Func<bool> condition)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            if (watch.Elapsed > TimeSpan.FromSeconds(30))
            {
                return false;
            }

            Thread.Sleep(5);
        }

        return true;
    }

    /// <summary>A consumer on its own thread that compares every copied frame with the image submitted under its serial.</summary>
    private sealed class CheckingReader : IKvmfrConsumerHandler, IDisposable
    {
        private readonly System.Collections.Concurrent.ConcurrentDictionary<uint, byte[]> _expected;
        private readonly Thread _thread;
        private volatile bool _stop;
        private byte[] _frame = [];

        public CheckingReader(SharedRegion region, System.Collections.Concurrent.ConcurrentDictionary<uint, byte[]> expected)
        {
            _expected = expected;
            Consumer = new KvmfrConsumer(region, s_patient, TimeProvider.System);
            _thread = new Thread(() =>
            {
                var spin = default(SpinWait);
                while (!_stop)
                {
                    Consumer.Poll(this);
                    spin.SpinOnce(sleep1Threshold: -1);
                }
            });
            _thread.Start();
        }

        public KvmfrConsumer Consumer { get; }

        public int Mismatches { get; private set; }

        public long Checked { get; private set; }

        public void Dispose()
        {
            _stop = true;
            _thread.Join();
        }

        public void SessionStarted(KvmfrHeader header)
        {
        }

        public void SessionLost(LgmpStatus reason) => Mismatches += 1000;

        public void ModeChanged(in KvmfrFrameInfo frame) => _frame = new byte[frame.Format.Width * frame.Format.Height * 4];

        public Span<byte> GetFrameBuffer(in KvmfrFrameInfo frame) => _frame;

        public void FrameReceived(in KvmfrFrameInfo frame, ReadOnlySpan<DamageRect> damage)
        {
            Checked++;
            if (!_expected.TryGetValue(frame.Serial, out byte[]? image) || !image.AsSpan().SequenceEqual(_frame))
            {
                Mismatches++;
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
