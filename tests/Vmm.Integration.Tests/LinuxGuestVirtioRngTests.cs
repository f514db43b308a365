using System.Text;
using System.Text.RegularExpressions;
using Vmm.Core.Config;
using Vmm.Core.Hosting;
using Vmm.Plugins.VirtioRng;
using Vmm.Qemu;

namespace Vmm.Integration.Tests;

/// <summary>
/// Debian's kernel, under QEMU 10 (TCG), drives our virtio-rng served over vhost-user: the check runs inside the
/// guest, and the bytes it reads must come from our device's (recognisable) source.
/// </summary>
public sealed partial class LinuxGuestVirtioRngTests
{
    private const string GuestScript =
        "ls -l /dev/hwrng; " +
        "echo RNG-CURRENT:$(cat /sys/class/misc/hw_random/rng_current); " +
        "echo RNG-HEX:$(dd if=/dev/hwrng bs=32 count=1 2>/dev/null | od -An -v -tx1 | tr -d ' \\n')";

    [Fact]
    public async Task Linux_guest_reads_our_virtio_rng_over_vhost_user()
    {
        (QemuBinary qemu, string kernel, string initrd) = TestVm.QemuAndGuestImageOrSkip();

        string work = Directory.CreateTempSubdirectory("vmm-it-").FullName;
        try
        {
            // A seeded stream: any 32 bytes of it are recognisable, wherever the guest's reads start (the
            // kernel's hwrng thread may take some bytes before our command does).
            byte[] source = new byte[4 << 20];
            new Random(20261122).NextBytes(source);
            string sourcePath = Path.Combine(work, "entropy.bin");
            await File.WriteAllBytesAsync(sourcePath, source, TestContext.Current.CancellationToken);

            string command = Convert.ToBase64String(Encoding.UTF8.GetBytes(GuestScript));
            var machine = new MachineSpec(256UL << 20, 1, kernel, initrd, $"console=ttyS0 loglevel=4 panic=-1 vmm.cmd={command}");
            var rng = new DeviceSpec(
                "rng0",
                "Vmm.Plugins.VirtioRng",
                VirtioRngDeviceFactory.Type,
                new VirtioRngOptions { Source = VirtioRngOptions.FileSource, Path = sourcePath },
                new VirtioRngDeviceFactory(),
                "$.devices[0]");
            var spec = new VmSpec(machine, PlatformKind.Qemu, [rng], null, null, work);

            using var console = new StringWriter();
            TextWriter serial = TextWriter.Synchronized(console);
            var platform = new QemuPlatform(new QemuPlatformOptions { Accelerator = QemuAccelerator.Tcg, SerialOutput = serial });
            VmRunContext context = TestVm.Context();
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(90));
            VmRunResult result = await platform.RunAsync(spec, context, timeout.Token);

            string output = console.ToString();
            TestContext.Current.TestOutputHelper?.WriteLine($"QEMU {qemu.Version}, guest console:\n{output}");
            Assert.False(timeout.IsCancellationRequested, "The guest did not power off within 90 s.");
            Assert.Equal(VmRunOutcome.Stopped, result.Outcome);
            Assert.Contains("VMM-GUEST: END rc=0", output, StringComparison.Ordinal);
            Assert.Matches(@"c[rw-]+ .* /dev/hwrng", output);
            Assert.Matches(@"RNG-CURRENT:virtio_rng\.\d+", output);

            Match hex = RngHexLine().Match(output);
            Assert.True(hex.Success, "The guest printed no RNG-HEX line.");
            byte[] read = Convert.FromHexString(hex.Groups[1].Value);
            Assert.Equal(32, read.Length);
            Assert.True(source.AsSpan().IndexOf(read) >= 0, $"The guest's bytes {hex.Groups[1].Value} are not from our device's source.");
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    [GeneratedRegex(@"RNG-HEX:([0-9a-f]{64})")]
    private static partial Regex RngHexLine();
}
