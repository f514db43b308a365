using System.Runtime.CompilerServices;
using Vmm.Core.Config;
using Vmm.Core.Hosting;
using Vmm.Kvm.Platform;
using Vmm.Qemu;
using Vmm.Qemu.GuestImages;

namespace Vmm.Cli;

/// <summary>
/// The platforms of this build, in the order <c>auto</c> tries them: <c>kvm</c> (our microVM; auto takes it only
/// where the host runs guest kernels natively), then <c>qemu</c> (QEMU 10 or newer, our devices over vhost-user).
/// </summary>
internal static class DefaultPlatforms
{
    /// <summary>
    /// The platforms. The guest's serial console goes to <paramref name="console"/> (or, with
    /// <paramref name="inheritConsole"/>, is this process's terminal, stdin included); the accelerator choice and
    /// guest-image progress go to <paramref name="error"/>.
    /// </summary>
    public static IReadOnlyList<IVmPlatform> Create(TextWriter console, TextWriter error, bool inheritConsole)
    {
        var qemu = new DeferredPlatform("qemu", PlatformKind.Qemu, () => CreateQemu(console, error, inheritConsole));
        var kvm = new KvmPlatform(inheritConsole
            ? new KvmPlatformOptions { ConsoleOutput = Console.OpenStandardOutput(), ConsoleInput = Console.OpenStandardInput() }
            : new KvmPlatformOptions { ConsoleOutput = new TextWriterStream(console) });
        return [new KvmAutoPlatform(kvm, () => KvmHostProbe.Facts), qemu];
    }

    // Only when a config asks for qemu (or auto falls through to it): Vmm.Qemu and its probes stay unloaded otherwise.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static QemuPlatform CreateQemu(TextWriter console, TextWriter error, bool inheritConsole) =>
        new(new QemuPlatformOptions
        {
            Accelerator = QemuAccelerator.Auto,
            RunsGuestKernelsNatively = () => ChooseQemuAccelerator(error),
            SerialOutput = console,
            InheritConsole = inheritConsole,
            GuestImage = GuestImageCache.Locate([Environment.CurrentDirectory, AppContext.BaseDirectory], AppContext.BaseDirectory),
            Progress = error,
        });

    /// <summary>Runs the (cached) probe and says on stderr which accelerator QEMU gets and why.</summary>
    private static bool ChooseQemuAccelerator(TextWriter error)
    {
        KvmHostFacts facts = KvmHostProbe.Facts;
        string choice = facts.RunsGuestKernelsNatively ? "kvm" : "tcg";
        error.WriteLine($"vmm: qemu accelerator: {choice} ({facts.Explanation})");
        return facts.RunsGuestKernelsNatively;
    }
}
