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
        [new DeviceStatus("rng0", "virtio-rng", "active")]);

    public void RequestStop() => StopRequests++;
}
