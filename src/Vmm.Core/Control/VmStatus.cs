namespace Vmm.Core.Control;

/// <summary>What the <c>status</c> command reports about a running VM.</summary>
/// <param name="State">The VM's state: <c>starting</c>, <c>running</c>, <c>stopping</c>, <c>stopped</c> or <c>failed</c>.</param>
/// <param name="Platform">The platform running it (<c>kvm</c>, <c>qemu</c>).</param>
/// <param name="Uptime">How long it has run.</param>
/// <param name="Vcpus">The number of vCPUs.</param>
/// <param name="MemoryBytes">Guest RAM in bytes.</param>
/// <param name="Devices">Each device's id, type and state.</param>
public sealed record VmStatus(string State, string Platform, TimeSpan Uptime, int Vcpus, ulong MemoryBytes, IReadOnlyList<DeviceStatus> Devices);

/// <summary>One device in <see cref="VmStatus"/>.</summary>
/// <param name="Id">The device id.</param>
/// <param name="Type">The device type.</param>
/// <param name="State">The device's state: <c>active</c>, <c>waiting</c> (for the driver), <c>needs-reset</c>, <c>failed</c>.</param>
/// <param name="Options">
/// The device's options object as its factory left it (a virtio-vsock device's absolute <c>uds</c>, which
/// <c>vmm exec</c> connects to), or null.
/// </param>
/// <param name="Reason">Why a failed device failed (what threw, or which call hung); null otherwise.</param>
public sealed record DeviceStatus(string Id, string Type, string State, object? Options = null, string? Reason = null);
