using System.Text;
using Vmm.Core.Hosting;
using Vmm.Kvm.Platform;
using Vmm.Testing.Diagnostics;
using Xunit;

namespace Vmm.Kvm.Tests.Platform;

/// <summary>
/// Debian's kernel and the test initramfs on our KVM platform with virtio-rng. Runs only where guest ring 0 is native
/// (hardware KVM); on a PVM host that emulates ring 0 it is skipped with the probe's figures.
/// </summary>
public sealed class LinuxBootTests
{
    private const string GuestScript = "ls -l /dev/hwrng; echo RNG-HEX:$(dd if=/dev/hwrng bs=16 count=1 2>/dev/null | od -An -v -tx1 | tr -d ' \\n')";

    [Fact]
    public async Task DebianKernelReadsOurVirtioRngThroughDevHwrng()
    {
        using KvmSystem system = KvmTestEnvironment.OpenOrSkip();
        string kernel = GuestImageFiles.PathOrSkip("vmlinuz");
        string initrd = GuestImageFiles.PathOrSkip("initrd.img");
        KvmTestEnvironment.SkipUnlessGuestKernelRunsNatively();

        (string source, _) = PlatformTestSpecs.RngSource();
        string command = Convert.ToBase64String(Encoding.UTF8.GetBytes(GuestScript));
        string commandLine = $"console=ttyS0 reboot=k panic=-1 acpi=off pci=conf1 i8042.noaux i8042.nomux i8042.dumbkbd nokaslr loglevel=4 vmm.cmd={command}";
        using ConsoleCapture console = new("VMM-GUEST: END");
        KvmPlatform platform = new(new KvmPlatformOptions { ConsoleOutput = console });
        VmRunContext context = PlatformTestSpecs.Context();
        using CancellationTokenSource stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        Task<VmRunResult> run = platform.RunAsync(PlatformTestSpecs.Spec(kernel, 512ul << 20, source, initrd, commandLine), context, stop.Token);

        // Without ACPI, the guest's final poweroff halts invisibly: stop the VM once the guest reported.
        Task finished = await Task.WhenAny(console.MarkerSeen, run, Task.Delay(TimeSpan.FromSeconds(120), TestContext.Current.CancellationToken));
        await stop.CancelAsync();
        try
        {
            await run;
        }
        catch (OperationCanceledException)
        {
            // the stop above
        }

        string output = console.Text;
        TestContext.Current.TestOutputHelper?.WriteLine(output);
        Assert.True(finished == console.MarkerSeen, "The guest did not reach VMM-GUEST: END within 120 s.");
        Assert.Contains("VMM-GUEST: END rc=0", output, StringComparison.Ordinal);
        Assert.Matches(@"c[rw-]+ .* /dev/hwrng", output);
        Assert.Contains("RNG-HEX:", output, StringComparison.Ordinal);
    }
}
