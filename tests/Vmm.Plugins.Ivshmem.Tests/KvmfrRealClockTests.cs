using System.Diagnostics;
using Vmm.Plugins.Ivshmem.Kvmfr;
using Vmm.Plugins.Ivshmem.SharedMemory;

namespace Vmm.Plugins.Ivshmem.Tests;

/// <summary>The production shape: a memfd, the real clock, the producer's own heartbeat thread, a polling consumer thread.</summary>
public sealed class KvmfrRealClockTests
{
    [Fact]
    public void AConsumerThreadReceivesFramesFromAProducerWithItsOwnHeartbeat()
    {
        using SharedMemoryFile file = SharedMemoryFile.CreateAnonymous("lgmp-real-clock", 16 << 20);
        using SharedRegion region = SharedRegion.Over(file);
        using var producer = new KvmfrProducer(region, new KvmfrProducerOptions(), TimeProvider.System);
        var consumer = new KvmfrConsumer(region, new KvmfrConsumerOptions(), TimeProvider.System);
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
}
