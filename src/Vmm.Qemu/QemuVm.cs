using System.Diagnostics;
using Vmm.Core.Config;
using Vmm.Core.Control;
using Vmm.VhostUser;

namespace Vmm.Qemu;

/// <summary>
/// One running QEMU guest as the control API sees it: <c>status</c> reports its state and devices, <c>stop</c>
/// asks the platform to power it off. Stop requests only signal; the platform's run loop does the stopping.
/// </summary>
internal sealed class QemuVm : IControlledVm
{
    private readonly MachineSpec _machine;
    private readonly IReadOnlyList<(DeviceSpec Spec, VhostUserServer Server)> _devices;
    private readonly IReadOnlyList<DeviceSpec> _qemuDevices;
    private readonly TaskCompletionSource<QemuStopKind> _stop = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _cancelled = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly long _started = Stopwatch.GetTimestamp();
    private volatile string _state = "starting";

    /// <param name="machine">The machine.</param>
    /// <param name="devices">The devices served over vhost-user.</param>
    /// <param name="qemuDevices">The devices QEMU emulates itself over our memory (IVSHMEM).</param>
    public QemuVm(MachineSpec machine, IReadOnlyList<(DeviceSpec Spec, VhostUserServer Server)> devices, IReadOnlyList<DeviceSpec> qemuDevices)
    {
        _machine = machine;
        _devices = devices;
        _qemuDevices = qemuDevices;
    }

    /// <summary>Completes with the first stop request.</summary>
    public Task<QemuStopKind> StopRequested => _stop.Task;

    /// <summary>Completes when the run is cancelled (Ctrl-C), which escalates a power-down in progress.</summary>
    public Task Cancelled => _cancelled.Task;

    /// <summary>The state <c>status</c> reports.</summary>
    public string State
    {
        get => _state;
        set => _state = value;
    }

    public VmStatus GetStatus()
    {
        DeviceStatus[] devices = _devices
            .Select(d => new DeviceStatus(d.Spec.Id, d.Spec.Type, d.Server.IsDeviceFailed ? "needs-reset" : "active", d.Spec.Options, d.Server.DeviceFailureReason))
            .Concat(_qemuDevices.Select(d => new DeviceStatus(d.Id, d.Type, "active")))
            .ToArray();
        return new VmStatus(_state, "qemu", Stopwatch.GetElapsedTime(_started), _machine.Vcpus, _machine.MemoryBytes, devices);
    }

    public void RequestStop() => _stop.TrySetResult(QemuStopKind.Powerdown);

    /// <summary>The run was cancelled: stop now.</summary>
    public void Cancel()
    {
        _cancelled.TrySetResult();
        _stop.TrySetResult(QemuStopKind.Quit);
    }
}
