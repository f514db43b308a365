using System.Diagnostics;
using System.Net;
using System.Text;
using Vmm.Contracts.Devices;
using Vmm.Core.Config;
using Vmm.Core.Hosting;
using Vmm.Plugins.Display.Png;
using Vmm.Plugins.Display.Vnc;
using Vmm.Plugins.VirtioGpu;
using Vmm.Qemu;
using Vmm.Plugins.Display.Testing;

namespace Vmm.Integration.Tests;

/// <summary>
/// Debian's 6.1 kernel, under QEMU 10 (TCG, <c>vhost-user-gpu-pci</c>, <c>-display none -vga none</c>), drives our
/// virtio-gpu: fbcon draws text, our display router carries it to our VNC sink, and a real VNC client
/// (vncsnapshot) captures a picture with text on it.
/// </summary>
public sealed class VirtioGpuLinuxGuestTests
{
    private const string GuestScript =
        "echo DRM:$(ls /sys/class/drm | tr '\\n' ' '); " +
        "echo MODES:$(cat /sys/class/drm/card0-Virtual-1/modes 2>/dev/null | tr '\\n' ' '); " +
        "echo FB:$(cat /sys/class/graphics/fb0/name 2>/dev/null) $(cat /sys/class/graphics/fb0/virtual_size 2>/dev/null); " +
        "for i in 1 2 3 4 5 6 7 8 9 10 11 12; do echo \"HELLO FROM THE VMM GUEST, LINE $i: THE QUICK BROWN FOX\" > /dev/tty1; done; " +
        "sleep 2; echo GPU-READY; sleep 25";

    /// <summary>
    /// Without a context type the device is 2D only; with one (a stub capset) the guest negotiates VIRGL and
    /// CONTEXT_INIT, reads the capset, and 6.1's fbdev creates a default context (context_init 0) and attaches its
    /// framebuffer to it, and the console must still work.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Linux_fbcon_on_our_virtio_gpu_is_captured_through_our_vnc_sink(bool withContextType)
    {
        (QemuBinary qemu, string kernel, string initrd) = TestVm.QemuAndGuestImageOrSkip();

        if (RealVncClient.UnavailableReason is string missing)
        {
            Assert.Skip(missing);
        }

        string work = Directory.CreateTempSubdirectory("vmm-it-gpu-").FullName;
        // The platform joins the VM's display router (VmDeviceSet); the sinks here are attached to it up front.
        using var routers = new VmRouters();
        using var vnc = new VncSink("vnc0", new IPEndPoint(IPAddress.Loopback, 0));
        using var png = new PngSink("png0");
        using var frames = new FrameKindCounter();
        try
        {
            string command = Convert.ToBase64String(Encoding.UTF8.GetBytes(GuestScript));
            var machine = new MachineSpec(256UL << 20, 1, kernel, initrd, $"console=tty0 console=ttyS0 loglevel=4 panic=-1 vmm.cmd={command}");
            routers.Display.AddSink(vnc);
            routers.Display.AddSink(png);
            routers.Display.AddSink(frames);
            var factory = new ContextTypeFactory(new VirtioGpuDeviceFactory(), withContextType ? new StubContextType() : null);
            var gpu = new DeviceSpec("gpu0", "Vmm.Plugins.VirtioGpu", VirtioGpuDeviceFactory.Type, new VirtioGpuOptions(), factory, "$.devices[0]");
            var spec = new VmSpec(machine, PlatformKind.Qemu, [gpu], null, null, work);

            using var console = new StringWriter();
            TextWriter serial = TextWriter.Synchronized(console);
            var platform = new QemuPlatform(new QemuPlatformOptions { Accelerator = QemuAccelerator.Tcg, SerialOutput = serial });
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(150));
            using var log = new StringWriter();
            using var loggerFactory = new TextLoggerFactory(TextWriter.Synchronized(log));
            var context = new VmRunContext(loggerFactory, TestVm.Context().Plugins, new Vmm.Core.Control.ControlCommandRegistry()) { Routers = routers };
            Task<VmRunResult> running = platform.RunAsync(spec, context, timeout.Token);

            while (!serial.ToString()!.Contains("GPU-READY", StringComparison.Ordinal) && !running.IsCompleted)
            {
                await Task.Delay(250, timeout.Token);
            }

            VncCaptureResult capture = RealVncClient.Capture(vnc.LocalEndPoint.Port, work);

            VmRunResult result = await running;
            string output = console.ToString();
            TestContext.Current.TestOutputHelper?.WriteLine($"QEMU {qemu.Version}, guest console:\n{output}\nVMM log:\n{log}");
            Assert.False(timeout.IsCancellationRequested, "The guest did not power off within 150 s.");
            Assert.Equal(VmRunOutcome.Stopped, result.Outcome);
            Assert.Contains("VMM-GUEST: END rc=0", output, StringComparison.Ordinal);
            Assert.Contains("card0-Virtual-1", output, StringComparison.Ordinal);
            Assert.Contains("MODES:1280x800", output, StringComparison.Ordinal);
            Assert.True(capture.Picture is not null, capture.Problem);
            Assert.True(png.FrameCount > 0, "No frame reached the PNG sink.");
            // Every sink here takes segmented frames, so fbcon's dumb buffer goes out over its guest pages when
            // ATTACH_BACKING named more than one range (how many it names is the guest kernel's business).
            TestContext.Current.TestOutputHelper?.WriteLine($"frames: {frames.Segmented} segmented, {frames.Whole} in one span");
            Assert.True(frames.Segmented + frames.Whole > 0, "No frame reached the counting sink.");

            (int width, int height, byte[] rgb) = capture.Picture;
            Assert.Equal((1280, 800), (width, height));
            int lit = 0;
            for (int i = 0; i < width * height; i++)
            {
                if (rgb[i * 3] + rgb[(i * 3) + 1] + rgb[(i * 3) + 2] > 3 * 128)
                {
                    lit++;
                }
            }

            // Twelve 50-character lines of 8x16 text light thousands of pixels; an empty console lights none.
            TestContext.Current.TestOutputHelper?.WriteLine($"{lit} bright pixels of {width * height}");
            Assert.True(lit > 2000, $"Only {lit} bright pixels: the console text did not reach the VNC client.");
            Assert.True(lit < width * height / 2, $"{lit} bright pixels: the picture is not a text console.");
            if (withContextType)
            {
                // GET_CAPSET_INFO, then fbdev's implicit default context (CTX_CREATE) and CTX_ATTACH_RESOURCE.
                Assert.Contains("command 0x0108", log.ToString(), StringComparison.Ordinal);
                Assert.Contains("command 0x0200", log.ToString(), StringComparison.Ordinal);
                Assert.Contains("command 0x0202", log.ToString(), StringComparison.Ordinal);
                Assert.DoesNotContain("answered 0x12", log.ToString(), StringComparison.Ordinal);
            }
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>Counts the frames that came segmented and in one span, reading each frame's damage as a sink does.</summary>
    private sealed class FrameKindCounter : Vmm.Contracts.Display.IDisplaySegmentedFrameSink
    {
        private byte[] _copy = [];

        public string Id => "frame-kinds";

        public bool AcceptsSegmentedFrames => true;

        public int Segmented { get; private set; }

        public int Whole { get; private set; }

        public void OnModeChanged(Vmm.Contracts.Display.DisplayMode mode) => _copy = new byte[mode.Stride * mode.Height];

        public void OnFrame(Vmm.Contracts.Display.DisplayFrame frame)
        {
            foreach (Vmm.Contracts.Display.DamageRect damage in frame.Damage)
            {
                frame.CopyRect(damage, _copy.AsSpan((damage.Y * frame.Mode.Stride) + (damage.X * 4)), frame.Mode.Stride);
            }

            if (frame.IsSegmented)
            {
                Segmented++;
            }
            else
            {
                Whole++;
            }
        }

        public void OnCursorShape(Vmm.Contracts.Display.CursorShape shape)
        {
        }

        public void OnCursorPosition(Vmm.Contracts.Display.CursorPosition position)
        {
        }

        public void Dispose()
        {
        }
    }

    /// <summary>A capset-5-shaped context type whose contexts ignore what they get.</summary>
    private sealed class StubContextType : Vmm.Contracts.Gpu.IGpuContextType
    {
        public uint CapsetId => 5;

        public uint CapsetMaxVersion => 0;

        public int CapsetMaxSize => 4;

        public int WriteCapset(uint version, Span<byte> destination)
        {
            destination[..4].Clear();
            return 4;
        }

        public Vmm.Contracts.Gpu.IGpuContext CreateContext(Vmm.Contracts.Gpu.GpuContextCreateInfo info, Vmm.Contracts.Gpu.IGpuContextHost host) => new StubContext();

        private sealed class StubContext : Vmm.Contracts.Gpu.IGpuContext
        {
            public void Submit(ReadOnlySpan<byte> commands)
            {
            }

            public void CreateFence(uint ringIndex, ulong fenceId)
            {
            }

            public void AttachResource(Vmm.Contracts.Gpu.IGpuResource resource)
            {
            }

            public void DetachResource(uint resourceId)
            {
            }

            public Vmm.Contracts.Gpu.IGpuBlob? CreateBlob(uint resourceId, ulong blobId, ulong size) => null;

            public void Dispose()
            {
            }
        }
    }

    /// <summary>Answers IEnumerable&lt;IGpuContextType&gt; with one type, everything else from the platform's services.</summary>
    private sealed class WithContextType(IServiceProvider inner, Vmm.Contracts.Gpu.IGpuContextType type) : IServiceProvider
    {
        public object? GetService(Type serviceType)
            => serviceType == typeof(IEnumerable<Vmm.Contracts.Gpu.IGpuContextType>) ? new[] { type } : inner.GetService(serviceType);
    }

    /// <summary>Creates devices through the real factory, optionally with a context type among the device's services.</summary>
    private sealed class ContextTypeFactory(IDeviceFactory inner, Vmm.Contracts.Gpu.IGpuContextType? contextType) : IDeviceFactory
    {
        public string DeviceType => inner.DeviceType;

        public string Description => inner.Description;

        public Type OptionsType => inner.OptionsType;

        public void Validate(object options, DeviceOptionsValidationContext context) => inner.Validate(options, context);

        public IDevice Create(DeviceCreateContext context, object options)
        {
            if (contextType is not null)
            {
                context = new DeviceCreateContext(context.Id, context.LoggerFactory, context.MeterFactory, new WithContextType(context.Services, contextType), context.BaseDirectory);
            }

            return inner.Create(context, options);
        }
    }
}
