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

    /// <summary>
    /// CPU time of the back-end's own processes so far: the one started and its descendants (the C virtiofsd forks
    /// its worker into a sandbox and only waits in the first); zero for a back-end in this process, which the caller
    /// counts itself. The sum of every live thread's run time in /proc (schedstat, nanoseconds: the 10 ms ticks of
    /// /proc/PID/stat are as long as a whole sequential workload); a thread that ended takes its time with it.
    /// </summary>
    public TimeSpan ChildProcessorTime
    {
        get
        {
            if (_process is null)
            {
                return TimeSpan.Zero;
            }

            try
            {
                return TimeSpan.FromTicks(TreeNanoseconds(_process.Id, 0) / 100);
            }
            catch (IOException)
            {
                return TimeSpan.Zero;
            }
        }
    }

    /// <summary>Run time of every thread of <paramref name="pid"/> and of its descendants, in nanoseconds.</summary>
    private static long TreeNanoseconds(int pid, int depth)
    {
        long nanoseconds = 0;
        foreach (string task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
        {
            try
            {
                string schedstat = File.ReadAllText(Path.Combine(task, "schedstat"));
                nanoseconds += long.Parse(schedstat.AsSpan(0, schedstat.IndexOf(' ')), System.Globalization.CultureInfo.InvariantCulture);
                if (depth < 4)
                {
                    foreach (string child in File.ReadAllText(Path.Combine(task, "children")).Split(' ', StringSplitOptions.RemoveEmptyEntries))
                    {
                        nanoseconds += TreeNanoseconds(int.Parse(child, System.Globalization.CultureInfo.InvariantCulture), depth + 1);
                    }
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The thread or child ended while we read.
            }
        }

        return nanoseconds;
    }

    /// <summary>Whether the back-end's own process has died (a request that gets no answer then says why).</summary>
    public bool HasExited => _process is { HasExited: true };

    /// <summary>The exit code of a back-end process that died.</summary>
    public int? ExitCode => _process is { HasExited: true } ? _process.ExitCode : null;

    /// <summary>Serves <paramref name="device"/> (disposed with the back-end) on <paramref name="socketPath"/>.</summary>
    public static VhostUserBackend InProcess(string name, string socketPath, IVirtioDevice device) => new(name, socketPath, device, null);

    /// <summary>Starts <paramref name="binary"/> and waits up to 5 s for it to listen on <paramref name="socketPath"/>.</summary>
    public static VhostUserBackend Spawn(string name, string binary, string socketPath, IEnumerable<string> arguments, string? stderrPrefix = null, Func<string, bool>? stderrShown = null)
    {
        var start = new ProcessStartInfo(binary) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        Process process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {binary}.");
        process.ErrorDataReceived += (_, e) =>
        {
            if (stderrPrefix is not null && !string.IsNullOrEmpty(e.Data) && (stderrShown?.Invoke(e.Data) ?? true))
            {
                Console.Error.WriteLine($"{stderrPrefix}: {e.Data}");
            }
        };
        process.OutputDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        for (int i = 0; i < 500 && !IsListening(socketPath); i++)
        {
            Thread.Sleep(10);
        }

        if (!IsListening(socketPath))
        {
            process.Kill();
            process.Dispose();
            throw new InvalidOperationException($"{binary} did not listen on {socketPath}.");
        }

        return new VhostUserBackend(name, socketPath, null, process);
    }

    /// <summary>
    /// Whether a socket bound to <paramref name="socketPath"/> listens. The file alone is not enough: a daemon
    /// creates it at bind(), before listen() (the C virtiofsd 7.2 does so), and a connect in between
    /// is refused (ECONNREFUSED, seen when the daemon was preempted there on a loaded machine). Probing with a
    /// connection is no answer either, as these daemons serve only their first. So this reads /proc/net/unix
    /// (the daemons bind before they enter a network namespace of their own) for a socket with __SO_ACCEPTCON,
    /// and falls back to the file where /proc cannot be read.
    /// </summary>
    private static bool IsListening(string socketPath)
    {
        const int AcceptConnections = 0x10000; // __SO_ACCEPTCON in the Flags column
        try
        {
            // Num RefCount Protocol Flags Type St Inode Path
            foreach (string line in File.ReadLines("/proc/net/unix").Skip(1))
            {
                string[] fields = line.Split(' ', 8, StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length == 8 && fields[7] == socketPath
                    && (int.Parse(fields[3], System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture) & AcceptConnections) != 0)
                {
                    return true;
                }
            }

            return false;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return File.Exists(socketPath);
        }
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
