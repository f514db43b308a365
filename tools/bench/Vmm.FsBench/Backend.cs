using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Vmm.Plugins.VirtioFs;
using Vmm.VhostUser;

namespace Vmm.FsBench;

/// <summary>A vhost-user-fs back-end listening on a socket: our device in this process, or the C virtiofsd.</summary>
internal sealed class Backend : IAsyncDisposable
{
    private readonly VhostUserServer? _server;
    private readonly VirtioFsDevice? _device;
    private readonly Task? _serverTask;
    private readonly CancellationTokenSource _stop = new();
    private readonly Process? _process;

    private Backend(string name, string socketPath, VhostUserServer? server, VirtioFsDevice? device, Process? process)
    {
        Name = name;
        SocketPath = socketPath;
        _server = server;
        _device = device;
        _process = process;
        _serverTask = server?.RunAsync(_stop.Token);
    }

    public string Name { get; }

    public string SocketPath { get; }

    public static Backend StartOurs(string socketPath, string share)
    {
        var device = new VirtioFsDevice("bench", share, new VirtioFsOptions { Tag = "bench", Cache = VirtioFsOptions.CacheNever }, NullLoggerFactory.Instance, null);
        var server = new VhostUserServer(socketPath, device, NullLoggerFactory.Instance);
        return new Backend("vmm virtio-fs", socketPath, server, device, null);
    }

    public static Backend StartVirtiofsd(string binary, string socketPath, string share)
    {
        var start = new ProcessStartInfo(binary) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string argument in new[] { $"--socket-path={socketPath}", "-o", $"source={share}", "-o", "cache=none", "--thread-pool-size=0" })
        {
            start.ArgumentList.Add(argument);
        }

        Process process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {binary}.");
        process.ErrorDataReceived += (_, _) => { };
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
            throw new InvalidOperationException($"virtiofsd did not create {socketPath}.");
        }

        return new Backend("C virtiofsd 7.2", socketPath, null, null, process);
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
}
