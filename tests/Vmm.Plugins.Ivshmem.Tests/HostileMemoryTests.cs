using Vmm.Contracts.Display;
using Vmm.Plugins.Ivshmem.Kvmfr;
using Vmm.Plugins.Ivshmem.Lgmp;
using Vmm.Plugins.Ivshmem.SharedMemory;
using Vmm.Testing.Time;

namespace Vmm.Plugins.Ivshmem.Tests;

/// <summary>
/// The consumer (and the producer) against memory written by someone hostile or broken: random bytes, valid memory
/// with random mutations, a producer that stops mid-frame. Nothing may throw (a read outside the region throws in
/// <see cref="SharedRegion"/>), and every call must return (bounded waits).
/// </summary>
public sealed class HostileMemoryTests
{
    private static readonly KvmfrConsumerOptions s_fast = new() { FrameWaitTimeout = TimeSpan.FromMilliseconds(2) };

    [Fact]
    public void RandomMemoryNeverBreaksTheConsumer()
    {
        var random = new Random(3);
        var handler = new RecordingHandler();
        long framesSeen = 0;
        for (int iteration = 0; iteration < 300; iteration++)
        {
            using SharedRegion region = SharedRegion.AllocateNative(64 * 1024);
            random.NextBytes(region.GetSpan(0, (int)region.Length));
            var time = new ManualTimeProvider();
            var consumer = new KvmfrConsumer(region, s_fast, time);
            bool plausible = iteration % 4 != 0;
            for (int step = 0; step < 30; step++)
            {
                if (plausible)
                {
                    MakePlausible(region, random, layout: step == 0 || random.Next(6) == 0);
                }

                consumer.Poll(handler);
                time.AdvanceMs(random.Next(0, 400));
            }

            framesSeen += consumer.FramesDropped + consumer.FramesReceived;
        }

        Assert.True(framesSeen > 0, "no random frame message was ever examined");

        Assert.True(handler.Sessions.Count > 0, "the plausible headers never got a consumer into a session: the test did not reach the queue and frame code");
    }

    [Fact]
    public void MutatedValidMemoryNeverBreaksEitherSide()
    {
        var options = new KvmfrProducerOptions { MaxCursorDimension = 32, SetCursorPosition = true };
        int sessions = 0;
        for (int seed = 0; seed < 250; seed++)
        {
            var random = new Random(seed);
            using var rig = new KvmfrRig(2 << 20, options);
            (KvmfrConsumer consumer, RecordingHandler handler) = rig.Join();
            var image = new Image(64, 48, seed);
            rig.Submit(image);
            rig.Producer.SetCursorShape(CursorType.Color, 8, 8, 32, 1, 1, new byte[256]);
            rig.Producer.SetCursorPosition(3, 4, visible: true);
            int structure = 48 * 1024; // header, rings, cursor buffers: where a mutation changes meaning
            for (int step = 0; step < 12; step++)
            {
                for (int m = random.Next(1, 6); m > 0; m--)
                {
                    long at = random.Next(3) == 0 ? random.NextInt64(rig.Region.Length - 4) : random.Next(structure);
                    rig.Region.WriteU32(at, random.Next(4) == 0 ? (uint)random.Next(0, 64) : (uint)random.NextInt64(1L << 32));
                }

                consumer.Poll(handler);
                consumer.RequestCursorPosition(random.Next(), random.Next());
                rig.Producer.Heartbeat();
                rig.Submit(image, image.Paint(new DamageRect(random.Next(60), random.Next(40), 4, 4), step));
                rig.Producer.SetCursorPosition(random.Next(-100, 100), random.Next(-100, 100), visible: true);
                rig.Time.AdvanceMs(random.Next(0, 700));
            }

            sessions += handler.Sessions.Count;
        }

        Assert.True(sessions >= 250);
    }

    [Fact]
    public void AProducerThatStopsMidFrameCostsOneBoundedWaitAndTheNextFrameIsFull()
    {
        using var rig = new KvmfrRig();
        (KvmfrConsumer consumer, RecordingHandler handler) = rig.Join();
        var image = new Image(1280, 720, 12);
        rig.Submit(image);
        consumer.Poll(handler);
        rig.Submit(image, image.Paint(new DamageRect(0, 600, 100, 100), 1));

        // Rewind wp of the frame just posted as if the producer died after 10 rows.
        long queue = LgmpHeaderLayout.Queue(0);
        Assert.Equal(KvmfrProtocol.FrameQueueId, rig.Region.ReadU32(queue + LgmpQueueLayout.QueueId));
        uint slots = rig.Region.ReadU32(queue + LgmpQueueLayout.NumMessages);
        uint last = (rig.Region.ReadU32(queue + LgmpQueueLayout.Position) + slots - 1) % slots;
        long message = rig.Region.ReadU32(queue + LgmpQueueLayout.MessagesOffset) + (LgmpMessageLayout.Size * last);
        long frame = rig.Region.ReadU32(message + LgmpMessageLayout.PayloadOffset);
        long wp = frame + rig.Region.ReadU32(frame + KvmfrFrameLayout.Offset);
        rig.Region.StoreReleaseU32(wp, 1280 * 4 * 10);

        consumer.Poll(handler);
        Assert.Single(handler.Frames);
        Assert.Equal(1, consumer.FramesDropped);
        Assert.Equal(KvmfrConsumerState.Connected, consumer.State);

        rig.Submit(image, image.Paint(new DamageRect(5, 5, 5, 5), 2));
        consumer.Poll(handler);
        Assert.Equal(image.Pixels, handler.Frame);
        Assert.Empty(handler.Frames[^1].Damage); // after an unfinished frame the copy is full
    }

    [Fact]
    public void AHeaderThatMovesUnderTheConsumerIsNotTrusted()
    {
        using var rig = new KvmfrRig();
        (KvmfrConsumer consumer, RecordingHandler handler) = rig.Join();
        var image = new Image(320, 200, 13);
        rig.Submit(image);
        long queue = LgmpHeaderLayout.Queue(0);
        rig.Region.WriteU32(queue + LgmpQueueLayout.Position, 1000); // beyond the ring
        consumer.Poll(handler);
        Assert.Equal([LgmpStatus.ErrCorrupted], handler.Losses);
        Assert.Empty(handler.Frames);
    }

    /// <summary>Writes a valid-looking LGMP header, KVMFR udata and queues 1 and 2 over random memory, so deeper code runs.</summary>
    private static void MakePlausible(SharedRegion region, Random random, bool layout)
    {
        if (!layout)
        {
            region.WriteU64(LgmpHeaderLayout.Timestamp, (ulong)random.NextInt64());
            FillRings(region, random);
            return;
        }

        region.WriteU32(LgmpHeaderLayout.Magic, LgmpProtocol.Magic);
        region.WriteU32(LgmpHeaderLayout.Version, LgmpProtocol.Version);
        region.WriteU64(LgmpHeaderLayout.Timestamp, (ulong)random.NextInt64());
        if (random.Next(3) != 0)
        {
            region.WriteU32(LgmpHeaderLayout.SessionId, 7);
        }

        byte[] udata = new KvmfrHeader(20, "fuzz", (KvmfrFeatures)random.Next(2), null, null).ToUdata();
        region.WriteU32(LgmpHeaderLayout.UdataSize, random.Next(8) == 0 ? (uint)random.NextInt64(1L << 32) : (uint)udata.Length);
        udata.CopyTo(region.GetSpan(LgmpHeaderLayout.Udata, udata.Length));
        region.WriteU32(LgmpHeaderLayout.NumQueues, (uint)random.Next(0, 8));
        for (int q = 0; q < 2; q++)
        {
            long queue = LgmpHeaderLayout.Queue(q);
            if (random.Next(4) == 0)
            {
                continue; // keep this queue's random bytes (and its lock) this time
            }

            uint numMessages = (uint)random.Next(0, 25);
            region.WriteU32(queue + LgmpQueueLayout.QueueId, (uint)(q + 1));
            region.WriteU32(queue + LgmpQueueLayout.NumMessages, numMessages);
            region.WriteU32(queue + LgmpQueueLayout.MessagesOffset, (uint)(random.Next(0, (int)region.Length) & ~3));
            region.WriteU32(queue + LgmpQueueLayout.Position, (uint)random.Next(0, (int)Math.Max(1, numMessages)));
            region.WriteU32(queue + LgmpQueueLayout.Lock, 0);
            region.WriteU32(queue + LgmpQueueLayout.ClientMessageLock, 0);
            region.WriteU64(queue + LgmpQueueLayout.Subs, random.Next(2) == 0 ? 0 : (ulong)random.NextInt64());
        }

        FillRings(region, random);
    }

    /// <summary>Fills both rings with messages whose payloads lie in the region and hold frame- or cursor-like headers.</summary>
    private static void FillRings(SharedRegion region, Random random)
    {
        for (int q = 0; q < 2; q++)
        {
            long queue = LgmpHeaderLayout.Queue(q);
            uint numMessages = Math.Min(region.ReadU32(queue + LgmpQueueLayout.NumMessages), 64);
            long ring = region.ReadU32(queue + LgmpQueueLayout.MessagesOffset);
            region.WriteU32(queue + LgmpQueueLayout.Position, (uint)random.Next(0, (int)Math.Max(1, numMessages)));
            for (int i = 0; i < numMessages && region.Contains(ring + (16L * i), 16); i++)
            {
                uint payload = (uint)(random.Next(0, (int)region.Length - 2048) & ~3);
                region.WriteU32(ring + (16L * i) + LgmpMessageLayout.Udata, (uint)random.Next(0, 8));
                region.WriteU32(ring + (16L * i) + LgmpMessageLayout.PayloadOffset, payload);
                region.WriteU32(ring + (16L * i) + LgmpMessageLayout.PayloadSize, (uint)random.Next(0, (int)region.Length - (int)payload + 64));
                WriteFrameLike(region, random, payload);
            }
        }
    }

    private static void WriteFrameLike(SharedRegion region, Random random, long at)
    {
        if (!region.Contains(at, KvmfrFrameLayout.Size))
        {
            return;
        }

        if (random.Next(2) == 0)
        {
            region.WriteU32(at + KvmfrCursorLayout.Type, (uint)random.Next(0, 4));
            region.WriteU32(at + KvmfrCursorLayout.Width, (uint)random.Next(0, 40));
            region.WriteU32(at + KvmfrCursorLayout.Height, (uint)random.Next(0, 80));
            region.WriteU32(at + KvmfrCursorLayout.Pitch, (uint)random.Next(0, 200));
            return;
        }

        region.WriteU32(at + KvmfrFrameLayout.Type, (uint)random.Next(0, 4));
        region.WriteU32(at + KvmfrFrameLayout.FrameWidth, (uint)random.Next(0, 64));
        region.WriteU32(at + KvmfrFrameLayout.FrameHeight, (uint)random.Next(0, 64));
        region.WriteU32(at + KvmfrFrameLayout.DataHeight, (uint)random.Next(0, 64));
        region.WriteU32(at + KvmfrFrameLayout.Pitch, (uint)random.Next(0, 300));
        region.WriteU32(at + KvmfrFrameLayout.Offset, (uint)(random.Next(0, 8192) & ~3));
        region.WriteU32(at + KvmfrFrameLayout.DamageRectsCount, (uint)random.Next(0, 80));
    }
}
