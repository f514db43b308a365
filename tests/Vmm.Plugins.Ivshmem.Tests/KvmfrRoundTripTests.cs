using Vmm.Contracts.Display;
using Vmm.Plugins.Ivshmem.Kvmfr;
using Vmm.Plugins.Ivshmem.Lgmp;
using Vmm.Plugins.Ivshmem.SharedMemory;

namespace Vmm.Plugins.Ivshmem.Tests;

/// <summary>Producer to consumer over one region: frames with damage, mode changes, cursors, several and late consumers, restarts.</summary>
public sealed class KvmfrRoundTripTests
{
    [Fact]
    public void FramesWithDamageArriveIntactAt720p()
    {
        using var rig = new KvmfrRig();
        (KvmfrConsumer consumer, RecordingHandler handler) = rig.Join();
        Assert.Equal(KvmfrProtocol.Version, handler.Sessions.Single().Version);
        var image = new Image(1280, 720, 1);
        Assert.Equal(KvmfrSubmitResult.Posted, rig.Submit(image));
        consumer.Poll(handler);
        Assert.Equal(image.Pixels, handler.Frame);
        Assert.Empty(handler.Frames[^1].Damage);

        var random = new Random(2);
        for (int i = 0; i < 30; i++)
        {
            DamageRect[] damage = [.. Enumerable.Range(0, random.Next(1, 4)).Select(_ =>
                image.Paint(new DamageRect(random.Next(0, 1200), random.Next(0, 650), random.Next(1, 80), random.Next(1, 70)), random.Next()))];
            Assert.Equal(KvmfrSubmitResult.Posted, rig.Submit(image, damage));
            if (i % 3 != 0)
            {
                consumer.Poll(handler); // else two frames wait in the queue, and the next poll takes both
            }

            if (i % 3 == 2)
            {
                Assert.Equal(image.Pixels, handler.Frame);
                Assert.NotEmpty(handler.Frames[^1].Damage); // copied by rects, not in full
            }
        }

        consumer.Poll(handler);
        Assert.Equal(image.Pixels, handler.Frame);
        Assert.Equal(31, consumer.FramesReceived);
        Assert.Equal(handler.Frames.Select(f => f.Info.Serial), handler.Frames.Select(f => f.Info.Serial).Order().Distinct());
    }

    [Fact]
    public void OnlyTheDamagedRectsAreCopiedOut()
    {
        using var rig = new KvmfrRig();
        (KvmfrConsumer consumer, RecordingHandler handler) = rig.Join();
        var image = new Image(1280, 720, 3);
        rig.Submit(image);
        consumer.Poll(handler);
        handler.Frame.AsSpan(0, 4 * 1280 * 10).Fill(0xEE); // rows 0..9: not damaged by the next frame
        DamageRect rect = image.Paint(new DamageRect(100, 300, 50, 40), 9);
        rig.Submit(image, rect);
        consumer.Poll(handler);
        Assert.Equal([rect], handler.Frames[^1].Damage);
        Assert.All(handler.Frame.AsSpan(0, 4 * 1280 * 10).ToArray(), b => Assert.Equal(0xEE, b));
        Assert.Equal(image.Pixels.AsSpan(4 * 1280 * 10).ToArray(), handler.Frame.AsSpan(4 * 1280 * 10).ToArray());
    }

    [Fact]
    public void EachShmBufferGetsTheDamageOfBothFramesSinceItWasWritten()
    {
        // Frame 2 lands in buffer 0, last written by frame 0: it must also carry frame 1's damage, which a consumer that
        // joins now (full copy of buffer 0) would otherwise see stale.
        using var rig = new KvmfrRig();
        (KvmfrConsumer consumer, RecordingHandler handler) = rig.Join();
        var image = new Image(1280, 720, 4);
        rig.Submit(image);
        consumer.Poll(handler);
        rig.Submit(image, image.Paint(new DamageRect(0, 0, 100, 100), 1));
        consumer.Poll(handler);
        rig.Submit(image, image.Paint(new DamageRect(500, 500, 100, 100), 2));
        consumer.Poll(handler);
        (KvmfrConsumer late, RecordingHandler lateHandler) = rig.Join();
        late.Poll(lateHandler);
        Assert.Equal(image.Pixels, lateHandler.Frame);
        Assert.Equal(image.Pixels, handler.Frame);
    }

    [Fact]
    public void AModeChangeBumpsTheFormatVersionAndCopiesInFull()
    {
        using var rig = new KvmfrRig();
        (KvmfrConsumer consumer, RecordingHandler handler) = rig.Join();
        rig.Submit(new Image(1280, 720, 5));
        consumer.Poll(handler);
        var small = new Image(640, 480, 6);
        rig.Submit(small, new DamageRect(0, 0, 10, 10)); // damage is ignored across a mode change
        consumer.Poll(handler);
        Assert.Equal(2, handler.Modes.Count);
        Assert.NotEqual(handler.Modes[0].FormatVersion, handler.Modes[1].FormatVersion);
        Assert.Equal((640, 480, 640 * 4), (handler.Modes[1].Format.Width, handler.Modes[1].Format.Height, handler.Modes[1].Format.Pitch));
        Assert.Equal(small.Pixels, handler.Frame);
        Assert.Empty(handler.Frames[^1].Damage);
    }

    [Fact]
    public void TwoConsumersEachSeeEveryFrame()
    {
        using var rig = new KvmfrRig();
        (KvmfrConsumer a, RecordingHandler ha) = rig.Join();
        (KvmfrConsumer b, RecordingHandler hb) = rig.Join();
        var image = new Image(1280, 720, 7);
        for (int i = 0; i < 12; i++)
        {
            Assert.Equal(KvmfrSubmitResult.Posted, rig.Submit(image, i == 0 ? [] : [image.Paint(new DamageRect(i * 10, i * 10, 64, 64), i)]));
            a.Poll(ha);
            b.Poll(hb);
            Assert.Equal(image.Pixels, ha.Frame);
            Assert.Equal(image.Pixels, hb.Frame);
        }

        Assert.Equal(12, ha.Frames.Count);
        Assert.Equal(ha.Frames.Select(f => f.Info.Serial), hb.Frames.Select(f => f.Info.Serial));
    }

    [Fact]
    public void ALateConsumerGetsTheLastFrameAndCursorReposted()
    {
        using var rig = new KvmfrRig();
        (KvmfrConsumer early, RecordingHandler earlyHandler) = rig.Join();
        var image = new Image(1280, 720, 8);
        rig.Submit(image);
        rig.Producer.SetCursorShape(CursorType.Color, 4, 4, 16, 1, 2, new byte[64]);
        rig.Producer.SetCursorPosition(50, 60, visible: true);
        early.Poll(earlyHandler);
        rig.Submit(image, image.Paint(new DamageRect(10, 10, 20, 20), 3));
        early.Poll(earlyHandler);

        (KvmfrConsumer late, RecordingHandler lateHandler) = rig.Join();
        late.Poll(lateHandler);
        Assert.Equal(image.Pixels, lateHandler.Frame);
        Assert.Equal(earlyHandler.Frames[^1].Info.Serial, lateHandler.Frames.Single().Info.Serial);
        Assert.Equal((4, 4, 1, 2), (lateHandler.Shapes.Single().Shape.Width, lateHandler.Shapes.Single().Shape.Height, lateHandler.Shapes[0].Shape.HotX, lateHandler.Shapes[0].Shape.HotY));
        Assert.Equal(new KvmfrCursorState(49, 58, 50, 60, true), lateHandler.Moves[^1]);

        // The early consumer drops the re-posted duplicate (same serial).
        long received = early.FramesReceived;
        early.Poll(earlyHandler);
        Assert.Equal(received, early.FramesReceived);
        Assert.True(early.FramesDropped >= 1);
    }

    [Fact]
    public void CursorShapesBecomeBgraWithHotspotAndPosition()
    {
        using var rig = new KvmfrRig();
        (KvmfrConsumer consumer, RecordingHandler handler) = rig.Join();
        byte[] color = [.. Enumerable.Range(0, 2 * 2 * 4).Select(i => (byte)(i * 7))];
        rig.Producer.SetCursorShape(CursorType.Color, 2, 2, 8, 1, 1, color);
        rig.Producer.SetCursorPosition(10, 20, visible: true);
        consumer.Poll(handler);
        Assert.Equal(color, handler.Shapes[^1].Bgra);
        Assert.Equal(new KvmfrCursorState(9, 19, 10, 20, true), handler.Moves[^1]);

        // Masked colour: alpha 0 = opaque colour; alpha set = XOR (black XOR keeps the screen: transparent).
        byte[] masked = [1, 2, 3, 0, 0, 0, 0, 0xFF, 9, 8, 7, 0xFF, 0, 0, 0, 0];
        rig.Producer.SetCursorShape(CursorType.MaskedColor, 4, 1, 16, 0, 0, masked);
        consumer.Poll(handler);
        Assert.Equal(new byte[] { 1, 2, 3, 0xFF, 0, 0, 0, 0, 9, 8, 7, 0xFF, 0, 0, 0, 0xFF }, handler.Shapes[^1].Bgra);

        // Monochrome 8x1: AND row then XOR row. Pixels: AND=1/XOR=0 transparent, AND=0/XOR=0 black, AND=0/XOR=1 white.
        byte[] mono = [0b1000_0000, 0b0100_0000];
        rig.Producer.SetCursorShape(CursorType.Monochrome, 8, 2, 1, 0, 0, mono);
        rig.Producer.SetCursorPosition(5, 5, visible: false);
        consumer.Poll(handler);
        (KvmfrCursorShape shape, byte[] bgra) = handler.Shapes[^1];
        Assert.Equal((CursorType.Monochrome, 8, 1), (shape.Type, shape.Width, shape.Height));
        Assert.Equal(new byte[] { 0, 0, 0, 0 }, bgra[0..4]);
        Assert.Equal(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF }, bgra[4..8]);
        Assert.Equal(new byte[] { 0, 0, 0, 0xFF }, bgra[8..12]);
        Assert.False(handler.Moves[^1].Visible);
    }

    [Fact]
    public void CursorPositionsCoalesceWhenThePointerQueueIsFull()
    {
        using var rig = new KvmfrRig();
        (KvmfrConsumer consumer, RecordingHandler handler) = rig.Join();
        for (int i = 0; i < 100; i++)
        {
            rig.Producer.SetCursorPosition(i, i, visible: true); // the queue holds 20; the rest waits for the heartbeat
        }

        consumer.Poll(handler);
        rig.Producer.Heartbeat();
        consumer.Poll(handler);
        Assert.Equal(99, handler.Moves[^1].HotspotX);
        Assert.InRange(handler.Moves.Count, 2, 21);
    }

    [Fact]
    public void SetCursorPosRequestsReachTheProducerOnlyWhenAdvertised()
    {
        using var rig = new KvmfrRig(options: new KvmfrProducerOptions { SetCursorPosition = true });
        (KvmfrConsumer consumer, RecordingHandler handler) = rig.Join();
        Assert.Equal(KvmfrFeatures.SetCursorPos, handler.Sessions[0].Features);
        var requests = new List<(int, int)>();
        rig.Producer.CursorPositionRequested += (x, y) => requests.Add((x, y));
        Assert.True(consumer.RequestCursorPosition(-5, 700));
        rig.Producer.Heartbeat();
        Assert.Equal([(-5, 700)], requests);

        using var plain = new KvmfrRig();
        (KvmfrConsumer other, _) = plain.Join();
        Assert.False(other.RequestCursorPosition(1, 1));
    }

    [Fact]
    public void ARestartedProducerIsDetectedAndRejoined()
    {
        using var rig = new KvmfrRig();
        (KvmfrConsumer consumer, RecordingHandler handler) = rig.Join();
        var image = new Image(320, 200, 10);
        rig.Submit(image);
        consumer.Poll(handler);
        uint first = rig.Producer.SessionId;

        rig.Producer.Restart();
        Assert.NotEqual(first, rig.Producer.SessionId);
        consumer.Poll(handler);
        Assert.Equal([LgmpStatus.ErrInvalidSession], handler.Losses);
        Assert.Equal(KvmfrConsumerState.WaitingForSession, consumer.State);
        Rejoin(rig, consumer, handler);
        Assert.Equal(2, handler.Sessions.Count);
        rig.Submit(image, image.Paint(new DamageRect(0, 0, 5, 5), 1));
        consumer.Poll(handler);
        Assert.Equal(image.Pixels, handler.Frame);
        Assert.Empty(handler.Frames[^1].Damage); // first frame of a session: full copy
    }

    [Fact]
    public void MemoryResetUnderTheProducerStartsANewSession()
    {
        using var rig = new KvmfrRig();
        (KvmfrConsumer consumer, RecordingHandler handler) = rig.Join();
        uint first = rig.Producer.SessionId;
        rig.Region.GetSpan(0, 4096).Clear(); // "zeroed by something external" (brief §2.3)
        Assert.Equal(LgmpStatus.ErrCorrupted, rig.Producer.Heartbeat());
        Assert.NotEqual(first, rig.Producer.SessionId);
        Assert.Equal(LgmpStatus.Ok, rig.Producer.Heartbeat());
        consumer.Poll(handler);
        Assert.Equal([LgmpStatus.ErrInvalidSession], handler.Losses);
        Rejoin(rig, consumer, handler);
        var image = new Image(320, 200, 14);
        Assert.Equal(KvmfrSubmitResult.Posted, rig.Submit(image));
        consumer.Poll(handler);
        Assert.Equal(image.Pixels, handler.Frame);
    }

    [Fact]
    public void AStoppedHeartbeatEndsTheSession()
    {
        using var rig = new KvmfrRig();
        (KvmfrConsumer consumer, RecordingHandler handler) = rig.Join();
        rig.Time.AdvanceMs(900);
        consumer.Poll(handler);
        Assert.Empty(handler.Losses);
        rig.Time.AdvanceMs(200);
        consumer.Poll(handler);
        Assert.Equal([LgmpStatus.ErrInvalidSession], handler.Losses);
    }

    [Fact]
    public void AConsumerThatNeverAcksIsDroppedAndTheProducerGoesOn()
    {
        using var rig = new KvmfrRig();
        (KvmfrConsumer stuck, RecordingHandler stuckHandler) = rig.Join();
        var image = new Image(640, 480, 11);
        Assert.Equal(KvmfrSubmitResult.Posted, rig.Submit(image));
        Assert.Equal(KvmfrSubmitResult.Posted, rig.Submit(image, image.Paint(new DamageRect(0, 0, 8, 8), 1)));
        Assert.Equal(KvmfrSubmitResult.Deferred, rig.Submit(image, image.Paint(new DamageRect(8, 8, 8, 8), 2)));
        Assert.True(rig.Producer.FramePending);

        rig.Time.AdvanceMs(1001);
        rig.Producer.Heartbeat();
        Assert.Equal(KvmfrSubmitResult.Posted, rig.Submit(image, image.Paint(new DamageRect(16, 16, 8, 8), 3)));
        Assert.False(rig.Producer.FramePending);

        stuck.Poll(stuckHandler);
        Assert.Equal([LgmpStatus.ErrQueueTimeout], stuckHandler.Losses);
        Rejoin(rig, stuck, stuckHandler);
        stuck.Poll(stuckHandler);
        Assert.Equal(image.Pixels, stuckHandler.Frame); // the re-posted last frame holds every deferred change too
    }

    private static void Rejoin(KvmfrRig rig, KvmfrConsumer consumer, RecordingHandler handler)
    {
        for (int i = 0; i < 4 && consumer.State != KvmfrConsumerState.Connected; i++)
        {
            consumer.Poll(handler);
            rig.Time.AdvanceMs(LgmpProtocol.StartupWaitMs);
            rig.Producer.Heartbeat();
        }

        consumer.Poll(handler);
        consumer.Poll(handler);
        Assert.Equal(KvmfrConsumerState.Connected, consumer.State);
        rig.Producer.Heartbeat();
    }
}

/// <summary>What the producer refuses or cuts, and how the consumer sees a truncated frame.</summary>
public sealed class KvmfrProducerLimitsTests
{
    [Fact]
    public void InvalidFramesAndCursorsAreRefused()
    {
        using var rig = new KvmfrRig();
        byte[] pixels = new byte[64 * 64 * 4];
        Assert.Equal(KvmfrSubmitResult.Invalid, rig.Producer.SubmitFrame(0, 64, FrameType.Bgra, pixels, 256, []));
        Assert.Equal(KvmfrSubmitResult.Invalid, rig.Producer.SubmitFrame(64, 64, FrameType.Rgba16F, pixels, 512, []));
        Assert.Equal(KvmfrSubmitResult.Invalid, rig.Producer.SubmitFrame(64, 64, FrameType.Bgra, pixels, 200, []));
        Assert.Equal(KvmfrSubmitResult.Invalid, rig.Producer.SubmitFrame(64, 65, FrameType.Bgra, pixels, 256, []));
        Assert.False(rig.Producer.SetCursorShape(CursorType.Color, 513, 1, 513 * 4, 0, 0, new byte[513 * 4]));
        Assert.False(rig.Producer.SetCursorShape(CursorType.Color, 4, 4, 16, 0, 0, new byte[15]));
        Assert.False(rig.Producer.SetCursorShape(CursorType.Color, 4, 4, 16, 200, 0, new byte[64]));
        using SharedRegion tiny = SharedRegion.AllocateNative(64 * 1024);
        Assert.Throws<ArgumentException>(() => new KvmfrProducer(tiny, new KvmfrProducerOptions { HeartbeatThread = false }, rig.Time));
    }

    [Fact]
    public void AFrameLargerThanABufferIsTruncatedAndFlagged()
    {
        using var rig = new KvmfrRig(2 << 20, new KvmfrProducerOptions { MaxCursorDimension = 16 });
        (KvmfrConsumer consumer, RecordingHandler handler) = rig.Join();
        var image = new Image(1024, 768, 30); // 3 MiB: more than half of 2 MiB
        Assert.Equal(KvmfrSubmitResult.Posted, rig.Submit(image));
        consumer.Poll(handler);
        KvmfrFrameInfo info = handler.Frames.Single().Info;
        Assert.True(info.Flags.HasFlag(FrameFlags.Truncated));
        Assert.InRange(info.Rows, 1, 767);
        Assert.Equal(image.Pixels.AsSpan(0, info.Rows * 4096).ToArray(), handler.Frame.AsSpan(0, info.Rows * 4096).ToArray());
    }
}
