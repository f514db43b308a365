using System.Diagnostics.Metrics;

namespace Vmm.Kvm;

/// <summary>The KVM platform's instruments (meter <c>Vmm.Kvm</c>).</summary>
internal static class KvmMetrics
{
    /// <summary>The meter name.</summary>
    public const string MeterName = "Vmm.Kvm";

    private static readonly Meter s_meter = new(MeterName);

    /// <summary>vCPU exits handled in user space (port I/O and MMIO), all vCPUs together.</summary>
    public static readonly Counter<long> IoExits = s_meter.CreateCounter<long>(
        "vmm.kvm.vcpu.io_exits", unit: "{exit}", description: "Port-I/O and MMIO exits dispatched to the buses.");
}
