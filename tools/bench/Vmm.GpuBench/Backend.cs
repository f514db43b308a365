using Microsoft.Extensions.Logging.Abstractions;
using Vmm.Bench;
using Vmm.Contracts.Devices;
using Vmm.Plugins.VirtioGpu;

namespace Vmm.GpuBench;

/// <summary>
/// A vhost-user-gpu back-end listening on a socket: our device in this process (frames into a
/// <see cref="FrameCopySink"/>), or QEMU's /usr/lib/qemu/vhost-user-gpu (frames over the display socket).
/// </summary>
internal sealed class Backend : IAsyncDisposable
{
    private readonly VhostUserBackend _backend;

    private Backend(VhostUserBackend backend, FrameCopySink? sink)
    {
        _backend = backend;
        Sink = sink;
    }

    public string Name => _backend.Name;

    public string SocketPath => _backend.SocketPath;

    /// <summary>Our device's display; null for QEMU's back-end, whose frames reach the display peer.</summary>
    public FrameCopySink? Sink { get; }

    public static Backend StartOurs(string socketPath, int width, int height, bool mirrorBacking, string? name = null)
    {
        IDeviceFactory factory = new VirtioGpuDeviceFactory();
        var device = (VirtioGpuDevice)factory.Create(
            new DeviceCreateContext("gpu0", NullLoggerFactory.Instance, null, new NoServices(), AppContext.BaseDirectory),
            new VirtioGpuOptions { Scanouts = [new VirtioGpuModeOptions { Width = width, Height = height }], MirrorBacking = mirrorBacking });
        var sink = new FrameCopySink();
        device.Connect(sink);
        name ??= mirrorBacking ? "vmm virtio-gpu" : "vmm virtio-gpu, host copy";
        return new Backend(VhostUserBackend.InProcess(name, socketPath, device), sink);
    }

    public static Backend StartQemu(string binary, string socketPath)
        => new(VhostUserBackend.Spawn("QEMU vhost-user-gpu", binary, socketPath, [$"--socket-path={socketPath}"], "vhost-user-gpu"), null);

    public ValueTask DisposeAsync() => _backend.DisposeAsync();

    private sealed class NoServices : IServiceProvider
    {
        public object? GetService(Type serviceType) => null;
    }
}
