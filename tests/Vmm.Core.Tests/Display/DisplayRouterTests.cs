using Vmm.Contracts.Devices;
using Vmm.Contracts.Display;
using Vmm.Core.Display;
using Xunit;

namespace Vmm.Core.Tests.Display;

public sealed class DisplayRouterTests
{
    private static readonly DisplayMode s_small = new(2, 2, 8, PixelFormat.B8G8R8X8);
    private static readonly DisplayMode s_large = new(4, 2, 16, PixelFormat.B8G8R8X8);

    [Fact]
    public void The_first_source_becomes_active_and_sinks_get_its_mode_and_a_full_frame()
    {
        var router = new DisplayRouter();
        var source = new FakeSource("gpu0", s_small);
        var sink = new RecordingSink("png");

        router.AddDevices([source, sink]);

        Assert.Equal("gpu0", router.ActiveSourceId);
        Assert.Equal(["png"], router.SinkIds);
        Assert.Equal([s_small], sink.Modes);
        Assert.Equal([new DamageRect(0, 0, 2, 2)], sink.Frames.Single().Damage);
        Assert.Equal(s_small, router.CurrentMode);
    }

    [Fact]
    public void Damage_frames_reach_every_attached_sink_and_not_detached_ones()
    {
        var router = new DisplayRouter();
        var source = new FakeSource("gpu0", s_small);
        var a = new RecordingSink("a");
        var b = new RecordingSink("b");
        router.AddDevices([source, a, b]);

        source.Publish(new DamageRect(1, 1, 1, 1));
        router.DetachSink("b");
        source.Publish(new DamageRect(0, 0, 1, 1));

        // a: full frame, full frame again when b attached (the source resends), then the two damage frames.
        Assert.Equal(4, a.Frames.Count);
        Assert.Equal(new DamageRect(0, 0, 1, 1), a.Frames[^1].Damage.Single());
        Assert.Equal(new DamageRect(1, 1, 1, 1), b.Frames[^1].Damage.Single());
        Assert.Equal(["a"], router.SinkIds);
    }

    [Fact]
    public void A_sink_attached_later_gets_the_mode_and_a_full_frame_while_others_only_redraw()
    {
        var router = new DisplayRouter();
        var source = new FakeSource("gpu0", s_small);
        var early = new RecordingSink("early");
        router.AddDevices([source, early]);
        source.Publish(new DamageRect(0, 0, 1, 1));

        var late = new RecordingSink("late");
        router.AddSink(late);

        Assert.Equal([s_small], late.Modes);
        Assert.Equal([new DamageRect(0, 0, 2, 2)], late.Frames.Single().Damage);
        Assert.Equal([s_small], early.Modes);
    }

    [Fact]
    public void Switching_sources_disconnects_the_old_one_and_drops_its_late_frames()
    {
        var router = new DisplayRouter();
        var first = new FakeSource("gpu0", s_small);
        var second = new FakeSource("kvmfr", s_large);
        var sink = new RecordingSink("vnc");
        router.AddDevices([first, second, sink]);

        router.SwitchSource("kvmfr");
        int framesAfterSwitch = sink.Frames.Count;
        first.PublishIgnoringDisconnect(new DamageRect(0, 0, 1, 1));

        Assert.Equal("kvmfr", router.ActiveSourceId);
        Assert.False(first.Connected);
        Assert.True(second.Connected);
        Assert.Equal([s_small, s_large], sink.Modes);
        Assert.Equal(framesAfterSwitch, sink.Frames.Count);
        Assert.Equal(s_large, sink.Frames[^1].Mode);
        Assert.Throws<KeyNotFoundException>(() => router.SwitchSource("nope"));
    }

    [Fact]
    public void A_mode_change_reaches_every_sink()
    {
        var router = new DisplayRouter();
        var source = new FakeSource("gpu0", s_small);
        var sink = new RecordingSink("vnc");
        router.AddDevices([source, sink]);

        source.ChangeMode(s_large);

        Assert.Equal([s_small, s_large], sink.Modes);
        Assert.Equal(s_large, sink.Frames[^1].Mode);
    }

    [Fact]
    public void A_throwing_sink_does_not_starve_the_others()
    {
        (_, _, RecordingSink good) = PublishPastAThrowingSink();
        Assert.Equal(2, good.Frames.Count);
    }

    [Fact]
    public void A_throwing_sink_is_detached_with_its_reason_until_attached_again()
    {
        (DisplayRouter router, RecordingSink bad, _) = PublishPastAThrowingSink();
        Assert.Single(bad.Frames); // the first frame threw; it got no more
        Assert.Equal(["good"], router.SinkIds);
        Assert.Equal("InvalidOperationException: sink failure", router.SinkFailure("bad"));
        Assert.Null(router.SinkFailure("good"));

        bad.Throw = false; // fixed: attached again, it gets the mode and a full frame and stays
        router.AttachSink("bad");
        Assert.Null(router.SinkFailure("bad"));
        Assert.Equal(["good", "bad"], router.SinkIds);
        Assert.Equal(2, bad.Frames.Count);
    }

    /// <summary>A source and two sinks, "bad" throwing from every call; one frame published after the full frame of attaching.</summary>
    private static (DisplayRouter Router, RecordingSink Bad, RecordingSink Good) PublishPastAThrowingSink()
    {
        var router = new DisplayRouter();
        var source = new FakeSource("gpu0", s_small);
        var bad = new RecordingSink("bad") { Throw = true };
        var good = new RecordingSink("good");
        router.AddDevices([source, bad, good]);
        source.Publish(new DamageRect(0, 0, 1, 1));
        return (router, bad, good);
    }

    [Fact]
    public void The_cursor_is_fanned_out_and_replayed_to_sinks_attached_later()
    {
        var router = new DisplayRouter();
        var source = new FakeSource("gpu0", s_small);
        var early = new RecordingSink("early");
        router.AddDevices([source, early]);
        var shape = new CursorShape(1, 1, 0, 0, new byte[4]);
        source.Sink!.OnCursorShape(shape);
        source.Sink!.OnCursorPosition(new CursorPosition(5, 6, true));

        var late = new RecordingSink("late");
        router.AddSink(late);

        Assert.Same(shape, Assert.Single(early.Shapes));
        Assert.Same(shape, Assert.Single(late.Shapes));
        Assert.Equal([new CursorPosition(5, 6, true)], late.Positions);
    }

    [Fact]
    public void Duplicate_ids_and_unknown_sinks_are_refused()
    {
        var router = new DisplayRouter();
        router.AddSource(new FakeSource("gpu0", s_small));
        Assert.Throws<InvalidOperationException>(() => router.AddSource(new FakeSource("gpu0", s_small)));
        Assert.Throws<KeyNotFoundException>(() => router.AttachSink("missing"));
    }

    [Fact]
    public void The_router_takes_segmented_frames_while_every_attached_sink_does()
    {
        var router = new DisplayRouter();
        var source = new FakeSource("gpu0", s_small);
        var a = new SegmentSink("a");
        var b = new SegmentSink("b");
        router.AddDevices([source, a, b]);
        var fanOut = Assert.IsAssignableFrom<IDisplaySegmentedFrameSink>(source.Sink);
        Assert.True(fanOut.AcceptsSegmentedFrames);

        b.Accepts = false;
        Assert.False(fanOut.AcceptsSegmentedFrames);
        router.DetachSink("b");
        Assert.True(fanOut.AcceptsSegmentedFrames);

        var legacy = new RecordingSink("legacy");
        router.AddSink(legacy);
        Assert.False(fanOut.AcceptsSegmentedFrames);
        router.DetachSink("legacy");
        Assert.True(fanOut.AcceptsSegmentedFrames);
    }

    [Fact]
    public void A_segmented_frame_reaches_the_sinks_that_take_them_and_never_an_older_sink()
    {
        var router = new DisplayRouter();
        var source = new FakeSource("gpu0", s_small);
        var modern = new SegmentSink("modern");
        var legacy = new RecordingSink("legacy");
        router.AddDevices([source, modern, legacy]);
        int legacyFrames = legacy.Frames.Count, modernFrames = modern.Frames;

        // A source that did not ask first: the router still keeps the segmented frame from the older sink.
        source.PublishSegmented(new DamageRect(0, 0, 1, 1));

        Assert.Equal(modernFrames + 1, modern.Frames);
        Assert.Equal(1, modern.Segmented);
        Assert.Equal(legacyFrames, legacy.Frames.Count);
        Assert.Null(router.SinkFailure("legacy"));
    }

    private sealed class FakeSource(string id, DisplayMode mode) : IDisplaySource
    {
        private readonly byte[] _pixels = new byte[64];
        private ulong _sequence;
        private DisplayMode _mode = mode;

        public string Id => id;

        public DisplayMode? CurrentMode => _mode;

        public IDisplaySink? Sink { get; private set; }

        public bool Connected => Sink is not null;

        private IDisplaySink? LastSink { get; set; }

        public void Connect(IDisplaySink sink)
        {
            Sink = sink;
            LastSink = sink;
            sink.OnModeChanged(_mode);
            Publish(new DamageRect(0, 0, _mode.Width, _mode.Height));
        }

        public void Disconnect() => Sink = null;

        public void ChangeMode(DisplayMode newMode)
        {
            _mode = newMode;
            Sink!.OnModeChanged(newMode);
            Publish(new DamageRect(0, 0, newMode.Width, newMode.Height));
        }

        public void Publish(DamageRect damage) => Sink?.OnFrame(new DisplayFrame(_mode, _pixels, [damage], ++_sequence));

        public void PublishSegmented(DamageRect damage) => Sink?.OnFrame(new DisplayFrame(_mode, new OneSegment(_pixels), [damage], ++_sequence));

        public void PublishIgnoringDisconnect(DamageRect damage) => LastSink?.OnFrame(new DisplayFrame(_mode, _pixels, [damage], ++_sequence));

        public void Dispose()
        {
        }
    }

    private sealed class RecordingSink(string id) : IDisplaySink, IDevice
    {
        public string Id => id;

        public bool Throw { get; set; }

        public List<DisplayMode> Modes { get; } = [];

        public List<(DisplayMode Mode, DamageRect[] Damage)> Frames { get; } = [];

        public List<CursorShape> Shapes { get; } = [];

        public List<CursorPosition> Positions { get; } = [];

        public void OnModeChanged(DisplayMode mode) => Modes.Add(mode);

        public void OnFrame(DisplayFrame frame)
        {
            Frames.Add((frame.Mode, frame.Damage.ToArray()));
            if (Throw)
            {
                throw new InvalidOperationException("sink failure");
            }
        }

        public void OnCursorShape(CursorShape shape) => Shapes.Add(shape);

        public void OnCursorPosition(CursorPosition position) => Positions.Add(position);

        public void Dispose()
        {
        }
    }

    private sealed class OneSegment(byte[] pixels) : IDisplayFrameSegments
    {
        public ReadOnlySpan<byte> GetSegment(int offset) => pixels.AsSpan(offset);
    }

    private sealed class SegmentSink(string id) : IDisplaySegmentedFrameSink, IDevice
    {
        public string Id => id;

        public bool Accepts { get; set; } = true;

        public bool AcceptsSegmentedFrames => Accepts;

        public int Frames { get; private set; }

        public int Segmented { get; private set; }

        public void OnModeChanged(DisplayMode mode)
        {
        }

        public void OnFrame(DisplayFrame frame)
        {
            Frames++;
            if (frame.IsSegmented)
            {
                Segmented++;
            }
        }

        public void OnCursorShape(CursorShape shape)
        {
        }

        public void OnCursorPosition(CursorPosition position)
        {
        }

        public void Dispose()
        {
        }
    }
}
