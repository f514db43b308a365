using Vmm.Core.Control;

namespace Vmm.Core.Tests.Control;

internal sealed class FakeVm : IControlledVm
{
    public int StopRequests { get; private set; }

    public VmStatus GetStatus() => new(
        StopRequests > 0 ? "stopping" : "running",
        "kvm",
        TimeSpan.FromSeconds(12.5),
        2,
        256UL << 20,
        [new DeviceStatus("rng0", "virtio-rng", "active"), new DeviceStatus("vsock0", "virtio-vsock", "active", new SocketOptions { GuestCid = 3, Uds = "/tmp/vm.vsock" })]);

    public void RequestStop() => StopRequests++;

    /// <summary>Stands for a plugin's options object: status shows it with the config's (camelCase) names.</summary>
    internal sealed class SocketOptions
    {
        public ulong GuestCid { get; set; }

        public string? Uds { get; set; }
    }
}
