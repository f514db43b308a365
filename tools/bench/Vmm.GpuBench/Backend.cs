using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Vmm.Contracts.Devices;
using Vmm.Plugins.VirtioGpu;
using Vmm.VhostUser;

namespace Vmm.GpuBench;

/// <summary>
/// A vhost-user-gpu back-end listening on a socket: our device in this process (frames into a
/// <see cref="FrameCopySink"/>), or QEMU's /usr/lib/qemu/vhost-user-gpu (frames over the display socket).
/// </summary>
internal sealed class Backend : IAsyncDisposable
{
    private readonly VhostUserServer? _server;
    private readonly VirtioGpuDevice? _device;
    private readonly Task? _serverTask;
    private readonly CancellationTokenSource _stop = new();
    private readonly Process? _process;

    private Backend(string name, string socketPath, VhostUserServer? server, VirtioGpuDevice? device, FrameCopySink? sink, Process? process)
    {
        Name = name;
        SocketPath = socketPath;
        _server = server;
        _device = device;
        Sink = sink;
        _process = process;
        _serverTask = server?.RunAsync(_stop.Token);
    }

    public string Name { get; }

    public string SocketPath { get; }

    /// <summary>Our device's display; null for QEMU's back-end, whose frames reach the display peer.</summary>
    public FrameCopySink? Sink { get; }

    public static Backend StartOurs(string socketPath, int width, int height)
    {
        IDeviceFactory factory = new VirtioGpuDeviceFactory();
        var device = (VirtioGpuDevice)factory.Create(
            new DeviceCreateContext("gpu0", NullLoggerFactory.Instance, null, new NoServices(), AppContext.BaseDirectory),
            new VirtioGpuOptions { Scanouts = [new VirtioGpuModeOptions { Width = width, Height = height }] });
        var sink = new FrameCopySink();
        device.Connect(sink);
        var server = new VhostUserServer(socketPath, device, NullLoggerFactory.Instance);
        return new Backend("vmm virtio-gpu", socketPath, server, device, sink, null);
    }

    public static Backend StartQemu(string binary, string socketPath)
    {
        var start = new ProcessStartInfo(binary) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add($"--socket-path={socketPath}");
        Process process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {binary}.");
        process.ErrorDataReceived += (_, e) =>
        {
            if (!string.IsNullOrEmpty(e.Data))
            {
                Console.Error.WriteLine($"vhost-user-gpu: {e.Data}");
            }
        };
        process.OutputDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        for (int i = 0; i < 100 && !File.Exists(socketPath); i++)
        {
            Thread.Sleep(50);
        }

        if (!File.Exists(socketPath))
        {
            process.Kill();
            throw new InvalidOperationException($"{binary} did not create {socketPath}.");
        }

        return new Backend("QEMU vhost-user-gpu", socketPath, null, null, null, process);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_serverTask is not null)
        {
            try
            {
                await _serverTask;
            }
            catch (OperationCanceledException)
            {
            }
        }

        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        _device?.Dispose();
        if (_process is { HasExited: false })
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process?.Dispose();
        _stop.Dispose();
    }

    private sealed class NoServices : IServiceProvider
    {
        public object? GetService(Type serviceType) => null;
    }
}
