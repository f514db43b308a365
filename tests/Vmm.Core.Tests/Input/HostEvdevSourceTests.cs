using System.IO.Pipes;
using System.Runtime.InteropServices;
using Vmm.Contracts.Input;
using Vmm.Core.Input;
using Xunit;

namespace Vmm.Core.Tests.Input;

/// <summary>
/// The evdev reader against recorded <c>struct input_event</c> records (a regular file) and a pipe written in
/// pieces: there is no real /dev/input device on the build machines.
/// </summary>
public sealed class HostEvdevSourceTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_recorded_file_is_published_frame_by_frame()
    {
        using var router = new InputRouter();
        var keyboard = new RecordingInputTarget("k0", InputDeviceKind.Keyboard);
        router.AddTarget(keyboard);
        string path = Path.Combine(Path.GetTempPath(), $"vmm-evdev-{Guid.NewGuid():N}.bin");
        await File.WriteAllBytesAsync(path, Records(
            (4, 4, 0x7001E), (1, 30, 1), (0, 0, 0),
            (1, 30, 0), (0, 0, 0)), TestContext.Current.CancellationToken);
        try
        {
            using var source = new HostEvdevSource(path, router, InputDeviceKind.Keyboard);
            source.Start();
            await source.Completion.WaitAsync(s_timeout, TestContext.Current.CancellationToken);

            Assert.Equal(
                [
                    [new(4, 4, 0x7001E), new(1, 30, 1), InputEvent.SynReport],
                    [new(1, 30, 0), InputEvent.SynReport],
                ],
                keyboard.Batches);
            Assert.Equal(5, source.PublishedEvents);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Records_split_across_pipe_writes_are_reassembled_and_negative_values_survive()
    {
        using var router = new InputRouter();
        var mouse = new RecordingInputTarget("m0", InputDeviceKind.Mouse);
        router.AddTarget(mouse);
        using var server = new AnonymousPipeServerStream(PipeDirection.Out);
        var client = new AnonymousPipeClientStream(PipeDirection.In, server.ClientSafePipeHandle);
        using var source = new HostEvdevSource(client, "pipe", router, InputDeviceKind.Mouse);
        source.Start();

        byte[] bytes = Records((2, 0, -5), (2, 1, 7), (0, 0, 0));
        foreach (int cut in new[] { 10, 30, 55 })
        {
            // Pieces: [0,10) [10,30) [30,55) [55,72): every record boundary falls inside a piece.
            int start = cut == 10 ? 0 : cut == 30 ? 10 : 30;
            server.Write(bytes, start, cut - start);
            server.Flush();
        }

        server.Write(bytes, 55, bytes.Length - 55);
        server.Dispose();
        await source.Completion.WaitAsync(s_timeout, TestContext.Current.CancellationToken);

        Assert.Equal([[new(2, 0, -5), new(2, 1, 7), InputEvent.SynReport]], mouse.Batches);
    }

    [Fact]
    public async Task Syn_dropped_discards_the_frame_up_to_the_next_report()
    {
        using var router = new InputRouter();
        var target = new RecordingInputTarget("t0", InputDeviceKind.Tablet);
        router.AddTarget(target);
        using var source = new HostEvdevSource(new MemoryStream(Records(
            (3, 0, 10), (0, 3, 0), (3, 1, 20), (0, 0, 0),
            (3, 0, 30), (0, 0, 0))), "recording", router, InputDeviceKind.Tablet);

        source.Start();
        await source.Completion.WaitAsync(s_timeout, TestContext.Current.CancellationToken);

        Assert.Equal([[new(3, 0, 30), InputEvent.SynReport]], target.Batches);
        Assert.Equal(1, source.DroppedFrames);
    }

    [Fact]
    public async Task Events_without_a_device_are_counted_as_unrouted_and_a_torn_tail_is_ignored()
    {
        using var router = new InputRouter();
        byte[] bytes = [.. Records((1, 30, 1), (0, 0, 0)), .. new byte[10]];
        using var source = new HostEvdevSource(new MemoryStream(bytes), "recording", router, InputDeviceKind.Gamepad, "pad0");

        source.Start();
        await source.Completion.WaitAsync(s_timeout, TestContext.Current.CancellationToken);

        Assert.Equal(2, source.UnroutedEvents);
        Assert.Equal(0, source.PublishedEvents);
    }

    [Fact]
    public void A_missing_device_fails_at_open()
    {
        using var router = new InputRouter();

        Assert.ThrowsAny<IOException>(() => new HostEvdevSource("/dev/input/no-such-event-device", router, InputDeviceKind.Keyboard));
    }

    [Fact]
    public async Task Dispose_before_start_completes_the_source()
    {
        using var router = new InputRouter();
        var source = new HostEvdevSource(new MemoryStream(), "empty", router, InputDeviceKind.Keyboard);

        source.Dispose();

        await source.Completion.WaitAsync(s_timeout, TestContext.Current.CancellationToken);
        Assert.Throws<ObjectDisposedException>(source.Start);
    }

    [Fact]
    public async Task The_record_layout_matches_struct_input_event_in_the_c_headers()
    {
        string? gcc = new[] { "/usr/bin/gcc", "/usr/local/bin/gcc" }.FirstOrDefault(File.Exists);
        if (gcc is null)
        {
            Assert.Skip("gcc is not installed, so the layout cannot be checked against <linux/input.h>.");
        }

        string folder = Directory.CreateTempSubdirectory("vmm-evdev-layout").FullName;
        try
        {
            string source = Path.Combine(folder, "layout.c");
            await File.WriteAllTextAsync(source, $$"""
                #include <stddef.h>
                #include <linux/input.h>
                _Static_assert(sizeof(struct input_event) == {{HostEvdevSource.RecordSize}}, "size");
                _Static_assert(offsetof(struct input_event, type) == 16, "type");
                _Static_assert(offsetof(struct input_event, code) == 18, "code");
                _Static_assert(offsetof(struct input_event, value) == 20, "value");
                _Static_assert(SYN_REPORT == 0 && SYN_DROPPED == 3, "syn codes");
                _Static_assert(EV_SYN == {{InputEventTypes.Syn}} && EV_KEY == {{InputEventTypes.Key}} && EV_REL == {{InputEventTypes.Relative}}, "types");
                _Static_assert(EV_ABS == {{InputEventTypes.Absolute}} && EV_LED == {{InputEventTypes.Led}} && EV_REP == {{InputEventTypes.Repeat}}, "types");
                int main(void) { return 0; }
                """, TestContext.Current.CancellationToken);
            var start = new System.Diagnostics.ProcessStartInfo(gcc, ["-fsyntax-only", source]) { RedirectStandardError = true };
            using var process = System.Diagnostics.Process.Start(start)!;
            string errors = await process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
            await process.WaitForExitAsync(TestContext.Current.CancellationToken);

            Assert.True(process.ExitCode == 0, errors);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static byte[] Records(params (ushort Type, ushort Code, int Value)[] events)
    {
        byte[] bytes = new byte[events.Length * HostEvdevSource.RecordSize];
        for (int i = 0; i < events.Length; i++)
        {
            Span<byte> record = bytes.AsSpan(i * HostEvdevSource.RecordSize, HostEvdevSource.RecordSize);
            MemoryMarshal.Write(record, 1_700_000_000L + i);
            MemoryMarshal.Write(record[8..], 123_456L);
            MemoryMarshal.Write(record[16..], events[i].Type);
            MemoryMarshal.Write(record[18..], events[i].Code);
            MemoryMarshal.Write(record[20..], events[i].Value);
        }

        return bytes;
    }
}
