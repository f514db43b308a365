using Vmm.Contracts.Input;
using Vmm.Core.Input;
using Xunit;

namespace Vmm.Core.Tests.Input;

public sealed class InputRouterTests
{
    private static readonly InputEvent s_keyA = new(InputEventTypes.Key, 30, 1);

    [Fact]
    public void Publish_goes_to_the_first_device_of_the_kind()
    {
        using var router = new InputRouter();
        var mouse = new RecordingInputTarget("m0", InputDeviceKind.Mouse);
        var first = new RecordingInputTarget("k0", InputDeviceKind.Keyboard);
        var second = new RecordingInputTarget("k1", InputDeviceKind.Keyboard);
        router.AddTarget(mouse);
        router.AddTarget(first);
        router.AddTarget(second);

        Assert.True(router.Publish(InputDeviceKind.Keyboard, [s_keyA, InputEvent.SynReport]));

        Assert.Equal([[s_keyA, InputEvent.SynReport]], first.Batches);
        Assert.Empty(second.Batches);
        Assert.Empty(mouse.Batches);
    }

    [Fact]
    public void Publish_with_an_id_picks_that_device_of_that_kind()
    {
        using var router = new InputRouter();
        var first = new RecordingInputTarget("k0", InputDeviceKind.Keyboard);
        var second = new RecordingInputTarget("k1", InputDeviceKind.Keyboard);
        router.AddTarget(first);
        router.AddTarget(second);

        Assert.True(router.Publish(InputDeviceKind.Keyboard, [s_keyA], "k1"));
        Assert.False(router.Publish(InputDeviceKind.Mouse, [s_keyA], "k1"));
        Assert.False(router.Publish(InputDeviceKind.Keyboard, [s_keyA], "nope"));

        Assert.Empty(first.Batches);
        Assert.Single(second.Batches);
    }

    [Fact]
    public void A_missing_syn_report_is_added_and_a_present_one_is_not_doubled()
    {
        using var router = new InputRouter();
        var target = new RecordingInputTarget("k0", InputDeviceKind.Keyboard);
        router.AddTarget(target);

        router.Publish(InputDeviceKind.Keyboard, [s_keyA]);
        router.Publish(InputDeviceKind.Keyboard, [s_keyA, InputEvent.SynReport]);

        Assert.Equal([[s_keyA, InputEvent.SynReport], [s_keyA, InputEvent.SynReport]], target.Batches);
    }

    [Fact]
    public void Long_frames_get_their_syn_report_too()
    {
        using var router = new InputRouter();
        var target = new RecordingInputTarget("g0", InputDeviceKind.Gamepad);
        router.AddTarget(target);
        InputEvent[] events = [.. Enumerable.Range(0, 500).Select(i => new InputEvent(InputEventTypes.Absolute, 0, i))];

        router.Publish(InputDeviceKind.Gamepad, events);

        InputEvent[] delivered = Assert.Single(target.Batches);
        Assert.Equal(501, delivered.Length);
        Assert.Equal(events, delivered[..500]);
        Assert.Equal(InputEvent.SynReport, delivered[500]);
    }

    [Fact]
    public void No_device_means_false_and_nothing_delivered()
    {
        using var router = new InputRouter();

        Assert.False(router.Publish(InputDeviceKind.Tablet, [s_keyA]));
    }

    [Fact]
    public void Removed_devices_get_nothing_and_the_next_one_takes_over()
    {
        using var router = new InputRouter();
        var first = new RecordingInputTarget("k0", InputDeviceKind.Keyboard);
        var second = new RecordingInputTarget("k1", InputDeviceKind.Keyboard);
        router.AddTarget(first);
        router.AddTarget(second);

        router.RemoveTarget(first);
        router.Publish(InputDeviceKind.Keyboard, [s_keyA]);

        Assert.Empty(first.Batches);
        Assert.Single(second.Batches);
        Assert.Equal([second], router.Targets);
    }

    [Fact]
    public void Two_devices_may_not_share_an_id()
    {
        using var router = new InputRouter();
        router.AddTarget(new RecordingInputTarget("x", InputDeviceKind.Keyboard));

        Assert.Throws<ArgumentException>(() => router.AddTarget(new RecordingInputTarget("x", InputDeviceKind.Mouse)));
    }

    [Fact]
    public void A_throwing_device_is_contained()
    {
        using var router = new InputRouter();
        router.AddTarget(new RecordingInputTarget("k0", InputDeviceKind.Keyboard) { Throw = true });

        Assert.False(router.Publish(InputDeviceKind.Keyboard, [s_keyA]));
    }

    [Fact]
    public void Status_reaches_every_listener_even_when_one_throws()
    {
        using var router = new InputRouter();
        var seen = new List<(string, InputEvent)>();
        router.StatusReported += (_, _) => throw new InvalidOperationException("listener broken");
        router.StatusReported += (id, status) => seen.Add((id, status));
        var capsLock = new InputEvent(InputEventTypes.Led, 1, 1);

        router.ReportStatus("k0", capsLock);

        Assert.Equal([("k0", capsLock)], seen);
    }

    [Fact]
    public void Publishing_from_many_threads_while_devices_come_and_go_loses_nothing_for_the_stable_device()
    {
        using var router = new InputRouter();
        var stable = new RecordingInputTarget("k0", InputDeviceKind.Keyboard);
        router.AddTarget(stable);

        Parallel.For(0, 4, worker =>
        {
            for (int i = 0; i < 500; i++)
            {
                if (worker == 0)
                {
                    var churn = new RecordingInputTarget($"m{i}", InputDeviceKind.Mouse);
                    router.AddTarget(churn);
                    router.RemoveTarget(churn);
                }
                else
                {
                    Assert.True(router.Publish(InputDeviceKind.Keyboard, [s_keyA]));
                }
            }
        });

        Assert.Equal(1500, stable.Batches.Count);
    }
}
