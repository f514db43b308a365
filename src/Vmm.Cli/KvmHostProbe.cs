using Vmm.Kvm.Probing;

namespace Vmm.Cli;

/// <summary>
/// Whether this host's /dev/kvm runs guest kernel (ring-0) code natively, measured once per process with
/// <see cref="KvmCapabilityProbe"/> (about 0.2 s) and cached: QEMU's accelerator and the <c>auto</c> platform
/// depend on it. On PVM-style hosts ring 0 is emulated and a Linux guest never leaves its decompressor under KVM.
/// </summary>
internal static class KvmHostProbe
{
    private const string KvmDevice = "/dev/kvm";
    private static readonly Lazy<KvmHostFacts> s_facts = new(Measure, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The facts, measured on first use.</summary>
    public static KvmHostFacts Facts => s_facts.Value;

    private static KvmHostFacts Measure()
    {
        if (!File.Exists(KvmDevice))
        {
            return new KvmHostFacts(false, $"{KvmDevice} does not exist");
        }

        if (!KvmCapabilityProbe.TryMeasure(out KvmProbeResult? result, out string? reason))
        {
            return new KvmHostFacts(false, $"the KVM probe failed: {reason}");
        }

        return new KvmHostFacts(result!.RunsGuestKernelNatively, $"KVM probe: {result}");
    }
}

/// <summary>What <see cref="KvmHostProbe"/> found.</summary>
/// <param name="RunsGuestKernelsNatively">Whether a Linux guest can boot under KVM at native speed.</param>
/// <param name="Explanation">Why, with the probe's figures, for a person.</param>
internal sealed record KvmHostFacts(bool RunsGuestKernelsNatively, string Explanation);
