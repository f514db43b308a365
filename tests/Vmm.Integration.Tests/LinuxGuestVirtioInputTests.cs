using System.Text;
using System.Text.RegularExpressions;
using Vmm.Contracts.Devices;
using Vmm.Contracts.Input;
using Vmm.Core.Config;
using Vmm.Core.Hosting;
using Vmm.Core.Input;
using Vmm.Plugins.VirtioInput;
using Vmm.Qemu;

namespace Vmm.Integration.Tests;

/// <summary>
/// Debian's kernel, under QEMU 10 (TCG), drives our keyboard, tablet and gamepad served over vhost-user-input-pci:
/// the guest lists them in /proc/bus/input/devices with our names and capability bits, reads the events the host
/// publishes through the input router from /dev/input/eventN, and turns Caps Lock on, which the host sees as a
/// status event.
/// </summary>
public sealed partial class LinuxGuestVirtioInputTests
{
    private const string KeyboardName = "Vmm IT Keyboard";
    private const string TabletName = "Vmm IT Tablet";
    private const string GamepadName = "Vmm IT Gamepad";

    // rd NAME DEVICE COUNT: read COUNT input_event records (24 bytes) from the named device, print them as hex.
    // The host publishes from when it sees READY-NAME until it sees HEX-NAME (evdev only queues for open readers).
    private const string GuestScript =
        "cat /proc/bus/input/devices; " +
        "ev() { for e in /sys/class/input/event*; do [ \"$(cat $e/device/name)\" = \"$1\" ] && echo /dev/input/${e##*/}; done; }; " +
        "rd() { d=$(ev \"$2\"); (timeout 30 dd if=$d bs=24 count=$3 2>/tmp/$1.err | od -An -v -tx1 | tr -d ' \\n' >/tmp/$1) & p=$!; " +
        "echo READY-$1 $d; wait $p; echo HEX-$1:$(cat /tmp/$1); cat /tmp/$1.err; }; " +
        "rd KBD '" + KeyboardName + "' 4; rd TAB '" + TabletName + "' 3; rd PAD '" + GamepadName + "' 3; " +
        "printf '\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\021\\0\\001\\0\\001\\0\\0\\0' >$(ev '" + KeyboardName + "') && echo LED-SENT; sleep 1";

    private static readonly TimeSpan s_runLimit = TimeSpan.FromSeconds(150);

    [Fact]
    public async Task Linux_guest_sees_our_keyboard_tablet_and_gamepad_and_their_events()
    {
        (QemuBinary qemu, string kernel, string initrd) = TestVm.QemuAndGuestImageOrSkip();

        string work = Directory.CreateTempSubdirectory("vmm-it-input-").FullName;
        using var router = new InputRouter();
        var statuses = new List<(string Id, InputEvent Status)>();
        router.StatusReported += (id, status) =>
        {
            lock (statuses)
            {
                statuses.Add((id, status));
            }
        };
        try
        {
            string command = Convert.ToBase64String(Encoding.UTF8.GetBytes(GuestScript));
            var machine = new MachineSpec(256UL << 20, 1, kernel, initrd, $"console=ttyS0 loglevel=4 panic=-1 vmm.cmd={command}");
            IDeviceFactory factory = new RoutedFactory(new VirtioInputDeviceFactory(), router);
            DeviceSpec Device(int index, string id, VirtioInputOptions options) =>
                new(id, "Vmm.Plugins.VirtioInput", VirtioInputDeviceFactory.Type, options, factory, $"$.devices[{index}]");
            var spec = new VmSpec(
                machine,
                PlatformKind.Qemu,
                [
                    Device(0, "kbd0", new VirtioInputOptions { Kind = "keyboard", Name = KeyboardName, Serial = "KBD-1" }),
                    Device(1, "tab0", new VirtioInputOptions { Kind = "tablet", Name = TabletName, Width = 1024, Height = 768 }),
                    Device(2, "pad0", new VirtioInputOptions { Kind = "gamepad", Name = GamepadName }),
                ],
                null,
                null,
                work);

            using var console = new StringWriter();
            TextWriter serial = TextWriter.Synchronized(console);
            var platform = new QemuPlatform(new QemuPlatformOptions { Accelerator = QemuAccelerator.Tcg, SerialOutput = serial });
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
            timeout.CancelAfter(s_runLimit);
            using var stopInjecting = new CancellationTokenSource();
            Task injecting = InjectWhileGuestReadsAsync(router, () =>
            {
                // TextWriter.Synchronized locks on the writer itself: read the text under the same lock.
                lock (serial)
                {
                    return console.ToString();
                }
            }, stopInjecting.Token);
            VmRunResult result = await platform.RunAsync(spec, TestVm.Context(), timeout.Token);
            await stopInjecting.CancelAsync();
            await injecting;

            string output = console.ToString();
            TestContext.Current.TestOutputHelper?.WriteLine($"QEMU {qemu.Version}, guest console:\n{output}");
            Assert.False(timeout.IsCancellationRequested, $"The guest did not power off within {s_runLimit.TotalSeconds} s.");
            Assert.Equal(VmRunOutcome.Stopped, result.Outcome);
            Assert.Contains("VMM-GUEST: END rc=0", output, StringComparison.Ordinal);

            // /proc/bus/input/devices: names, ids (BUS_VIRTUAL, QEMU's vendor) and capability bitmaps.
            string keyboard = DeviceBlock(output, KeyboardName);
            Assert.Contains("I: Bus=0006 Vendor=0627 Product=0001", keyboard, StringComparison.Ordinal);
            Assert.Contains("U: Uniq=KBD-1", keyboard, StringComparison.Ordinal);
            Assert.Contains("B: EV=120003", keyboard, StringComparison.Ordinal);
            Assert.Contains("B: LED=7", keyboard, StringComparison.Ordinal);
            string tablet = DeviceBlock(output, TabletName);
            Assert.Contains("B: EV=f", tablet, StringComparison.Ordinal);
            Assert.Contains("B: ABS=3", tablet, StringComparison.Ordinal);
            Assert.Contains("B: REL=100", tablet, StringComparison.Ordinal);
            string gamepad = DeviceBlock(output, GamepadName);
            Assert.Contains("B: EV=b", gamepad, StringComparison.Ordinal);
            Assert.Contains("B: ABS=3003f", gamepad, StringComparison.Ordinal);
            Assert.Contains("B: KEY=7fdb000000000000 0 0 0 0", gamepad, StringComparison.Ordinal);

            // The events the guest read, as evdev hands them out.
            List<InputEvent> keys = Records(output, "KBD");
            Assert.Equal(4, keys.Count);
            Assert.Contains(new InputEvent(InputEventTypes.Key, 30, 1), keys);
            Assert.Contains(new InputEvent(InputEventTypes.Key, 30, 0), keys);
            Assert.Equal(2, keys.Count(e => e == InputEvent.SynReport));

            List<InputEvent> pointer = Records(output, "TAB");
            Assert.Equal(3, pointer.Count);
            Assert.Contains(pointer[0], new[] { new InputEvent(InputEventTypes.Absolute, 0, 100), new InputEvent(InputEventTypes.Absolute, 0, 300) });
            Assert.Contains(pointer[1], new[] { new InputEvent(InputEventTypes.Absolute, 1, 200), new InputEvent(InputEventTypes.Absolute, 1, 400) });
            Assert.Equal(InputEvent.SynReport, pointer[2]);

            List<InputEvent> pad = Records(output, "PAD");
            Assert.Equal(3, pad.Count);
            Assert.Contains(pad[0], new[] { new InputEvent(InputEventTypes.Key, 0x130, 1), new InputEvent(InputEventTypes.Key, 0x130, 0) });
            Assert.Contains(pad[1], new[] { new InputEvent(InputEventTypes.Absolute, 0, 12000), new InputEvent(InputEventTypes.Absolute, 0, -12000) });
            Assert.Equal(InputEvent.SynReport, pad[2]);

            // Caps Lock written by the guest came back over statusq.
            Assert.Contains("LED-SENT", output, StringComparison.Ordinal);
            lock (statuses)
            {
                Assert.Contains(("kbd0", new InputEvent(InputEventTypes.Led, 1, 1)), statuses);
            }
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static async Task InjectWhileGuestReadsAsync(InputRouter router, Func<string> readConsole, CancellationToken cancellationToken)
    {
        // The guest starts each reader, then says READY-X; evdev drops events for readers not yet open, so the
        // host keeps publishing (alternating frames, as the input core drops repeats of an unchanged state).
        (string Tag, InputDeviceKind Kind, InputEvent[][] Frames)[] plan =
        [
            ("KBD", InputDeviceKind.Keyboard, [[new(InputEventTypes.Key, 30, 1)], [new(InputEventTypes.Key, 30, 0)]]),
            ("TAB", InputDeviceKind.Tablet, [[new(InputEventTypes.Absolute, 0, 100), new(InputEventTypes.Absolute, 1, 200)], [new(InputEventTypes.Absolute, 0, 300), new(InputEventTypes.Absolute, 1, 400)]]),
            ("PAD", InputDeviceKind.Gamepad, [[new(InputEventTypes.Key, 0x130, 1), new(InputEventTypes.Absolute, 0, 12000)], [new(InputEventTypes.Key, 0x130, 0), new(InputEventTypes.Absolute, 0, -12000)]]),
        ];
        // Each device starts with its first frame and alternates, so every frame changes state and none is filtered.
        int[] rounds = new int[plan.Length];
        while (!cancellationToken.IsCancellationRequested)
        {
            string output = readConsole();
            for (int i = 0; i < plan.Length; i++)
            {
                (string tag, InputDeviceKind kind, InputEvent[][] frames) = plan[i];
                if (output.Contains($"READY-{tag}", StringComparison.Ordinal) && !output.Contains($"HEX-{tag}:", StringComparison.Ordinal)
                    && router.Publish(kind, frames[rounds[i] % frames.Length]))
                {
                    rounds[i]++;
                }
            }

            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(150), cancellationToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    private static string DeviceBlock(string output, string name)
    {
        string normalized = output.Replace("\r", "", StringComparison.Ordinal);
        foreach (string block in normalized.Split("\n\n"))
        {
            if (block.Contains($"N: Name=\"{name}\"", StringComparison.Ordinal))
            {
                return block;
            }
        }

        Assert.Fail($"/proc/bus/input/devices lists no device named '{name}'.");
        return "";
    }

    private static List<InputEvent> Records(string output, string tag)
    {
        Match match = Regex.Match(output, $"HEX-{tag}:([0-9a-f]*)");
        Assert.True(match.Success, $"The guest printed no HEX-{tag} line.");
        byte[] bytes = Convert.FromHexString(match.Groups[1].Value);
        var events = new List<InputEvent>();
        for (int offset = 0; offset + 24 <= bytes.Length; offset += 24)
        {
            ReadOnlySpan<byte> record = bytes.AsSpan(offset, 24);
            events.Add(new InputEvent(
                System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(record[16..]),
                System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(record[18..]),
                System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(record[20..])));
        }

        return events;
    }

    /// <summary>
    /// Gives the devices the test's input router: the qemu platform does not pass the host's shared services to
    /// device factories (yet), so the test adds the router to each device's create context.
    /// </summary>
    private sealed class RoutedFactory(IDeviceFactory inner, IInputRouter router) : IDeviceFactory
    {
        public string DeviceType => inner.DeviceType;

        public string Description => inner.Description;

        public Type OptionsType => inner.OptionsType;

        public void Validate(object options, DeviceOptionsValidationContext context) => inner.Validate(options, context);

        public IDevice Create(DeviceCreateContext context, object options) =>
            inner.Create(new DeviceCreateContext(context.Id, context.LoggerFactory, context.MeterFactory, new RouterServices(context.Services, router), context.BaseDirectory), options);
    }

    private sealed class RouterServices(IServiceProvider inner, IInputRouter router) : IServiceProvider
    {
        public object? GetService(Type serviceType) => serviceType == typeof(IInputRouter) ? router : inner.GetService(serviceType);
    }
}
