using System.Globalization;

namespace Vmm.Kvm.Probing;

/// <summary>The figures of one <see cref="KvmCapabilityProbe"/> run: the same loop timed at guest ring 0 and ring 3.</summary>
/// <param name="Ring0Iterations">Loop iterations run at CPL 0.</param>
/// <param name="Ring0Time">Host wall time of the ring-0 run (KVM_RUN to the exit-port write).</param>
/// <param name="Ring3Iterations">Loop iterations run at CPL 3.</param>
/// <param name="Ring3Time">Host wall time of the ring-3 run.</param>
public sealed record KvmProbeResult(long Ring0Iterations, TimeSpan Ring0Time, long Ring3Iterations, TimeSpan Ring3Time)
{
    /// <summary>Ring 0 counts as native when it runs at least this fraction of the ring-3 speed.</summary>
    public const double NativeThreshold = 0.1;

    /// <summary>Ring-0 loop iterations per second.</summary>
    public double Ring0IterationsPerSecond => Ring0Iterations / Math.Max(Ring0Time.TotalSeconds, 1e-9);

    /// <summary>Ring-3 loop iterations per second.</summary>
    public double Ring3IterationsPerSecond => Ring3Iterations / Math.Max(Ring3Time.TotalSeconds, 1e-9);

    /// <summary>How many times slower ring 0 runs than ring 3 (about 1 on hardware virtualization).</summary>
    public double SlowdownFactor => Ring3IterationsPerSecond / Math.Max(Ring0IterationsPerSecond, 1e-9);

    /// <summary>Whether guest kernel (ring-0) code runs natively, so a full Linux guest can boot in reasonable time.</summary>
    public bool RunsGuestKernelNatively => Ring0IterationsPerSecond >= Ring3IterationsPerSecond * NativeThreshold;

    /// <inheritdoc/>
    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"ring 0: {Ring0Iterations:N0} iterations in {Ring0Time.TotalMilliseconds:F1} ms ({Ring0IterationsPerSecond / 1e6:F2} M/s); " +
        $"ring 3: {Ring3Iterations:N0} iterations in {Ring3Time.TotalMilliseconds:F1} ms ({Ring3IterationsPerSecond / 1e6:F2} M/s); " +
        $"ring 0 is {SlowdownFactor:F1}x slower: guest kernel code {(RunsGuestKernelNatively ? "runs natively" : "is emulated")}.");
}
