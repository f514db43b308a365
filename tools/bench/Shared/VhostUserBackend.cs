using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Vmm.Contracts.Virtio;
using Vmm.VhostUser;

namespace Vmm.Bench;

/// <summary>
/// A vhost-user back-end listening on a socket for a side-by-side benchmark: one of our devices served by
/// <see cref="VhostUserServer"/> in this process, or a reference back-end (the C virtiofsd, QEMU's vhost-user-gpu)
/// in its own process. Both are driven by the same front-end, so only the back-end differs.
/// </summary>
internal sealed class VhostUserBackend : IAsyncDisposable
{
    private readonly VhostUserServer? _server;
    private readonly IVirtioDevice? _device;
    private readonly Task? _serverTask;
    private readonly CancellationTokenSource _stop = new();
    private readonly Process? _process;

    private VhostUserBackend(string name, string socketPath, IVirtioDevice? device, Process? process)
    {
        Name = name;
        SocketPath = socketPath;
        _device = device;
        _process = process;
        if (device is not null)
        {
            _server = new VhostUserServer(socketPath, device, NullLoggerFactory.Instance);
            _serverTask = _server.RunAsync(_stop.Token);
        }
    }

    public string Name { get; }

    public string SocketPath { get; }

    /// <summary>Serves <paramref name="device"/> (disposed with the back-end) on <paramref name="socketPath"/>.</summary>
    public static VhostUserBackend InProcess(string name, string socketPath, IVirtioDevice device) => new(name, socketPath, device, null);

    /// <summary>Starts <paramref name="binary"/> and waits up to 5 s for it to create <paramref name="socketPath"/>.</summary>
    public static VhostUserBackend Spawn(string name, string binary, string socketPath, IEnumerable<string> arguments, string? stderrPrefix = null)
    {
        var start = new ProcessStartInfo(binary) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        Process process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {binary}.");
        process.ErrorDataReceived += (_, e) =>
        {
            if (stderrPrefix is not null && !string.IsNullOrEmpty(e.Data))
            {
                Console.Error.WriteLine($"{stderrPrefix}: {e.Data}");
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
            process.Dispose();
            throw new InvalidOperationException($"{binary} did not create {socketPath}.");
        }

        return new VhostUserBackend(name, socketPath, null, process);
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
