using Vmm.Core.Config;
using Vmm.Core.Hosting;
using Vmm.Qemu;
using Vmm.Qemu.GuestImages;

namespace Vmm.Cli;

/// <summary>
/// The platforms of this build, in the order <c>auto</c> tries them: KVM (only where the host runs guest kernels
/// natively and the KVM platform can boot Linux), then QEMU (10 or newer).
/// </summary>
internal static class DefaultPlatforms
{
    /// <summary>Why <c>kvm</c> cannot run a VM config in this build.</summary>
    public const string KvmUnavailableReason =
        "platform 'kvm' is not available: in this build the KVM platform runs only ring-3 test payloads and cannot boot a Linux guest yet (use \"platform\": \"qemu\")";

    /// <summary>
    /// The platforms. The guest's serial console goes to <paramref name="console"/> (or, with
    /// <paramref name="inheritConsole"/>, QEMU uses this process's terminal directly); the accelerator choice and
    /// guest-image progress go to <paramref name="error"/>.
    /// </summary>
    public static IReadOnlyList<IVmPlatform> Create(TextWriter console, TextWriter error, bool inheritConsole)
    {
        var qemu = new QemuPlatform(new QemuPlatformOptions
        {
            Accelerator = QemuAccelerator.Auto,
            RunsGuestKernelsNatively = () => ChooseQemuAccelerator(error),
            SerialOutput = console,
            InheritConsole = inheritConsole,
            GuestImage = GuestImageCache.Locate([Environment.CurrentDirectory, AppContext.BaseDirectory], AppContext.BaseDirectory),
            Progress = error,
        });

        // The KVM platform's Linux loader is not in this build: kvm stays unavailable (and auto goes to QEMU) until it is.
        IVmPlatform kvm = new UnavailablePlatform("kvm", PlatformKind.Kvm, KvmUnavailableReason);
        return [kvm, qemu];
    }

    /// <summary>Runs the (cached) probe and says on stderr which accelerator QEMU gets and why.</summary>
    private static bool ChooseQemuAccelerator(TextWriter error)
    {
        KvmHostFacts facts = KvmHostProbe.Facts;
        string choice = facts.RunsGuestKernelsNatively ? "kvm" : "tcg";
        error.WriteLine($"vmm: qemu accelerator: {choice} ({facts.Explanation})");
        return facts.RunsGuestKernelsNatively;
    }
}
