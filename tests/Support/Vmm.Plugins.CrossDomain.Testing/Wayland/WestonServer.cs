using System.Diagnostics;
using Vmm.Core.Hosting;

namespace Vmm.Plugins.CrossDomain.Testing.Wayland;

/// <summary>
/// A real Wayland compositor for tests: <c>weston --backend=headless-backend.so</c> on a socket of its own in a
/// private runtime directory (weston refuses a runtime directory others can read).
/// </summary>
public sealed class WestonServer : IDisposable
{
    private readonly Process? _process;
    private readonly string? _runtimeDirectory;

    /// <summary>Starts weston; <see cref="SkipReason"/> says why not when it cannot.</summary>
    public WestonServer()
    {
        string? weston = ExecutableSearch.FindOnPath("weston");
        if (weston is null)
        {
            SkipReason = "weston is not installed (apt-get install weston; tools/install-deps.sh adds it)";
            return;
        }

        _runtimeDirectory = Directory.CreateTempSubdirectory("vmm-weston-").FullName; // 0700, as weston wants
        SocketPath = Path.Combine(_runtimeDirectory, "wayland-vmm");
        var start = new ProcessStartInfo(weston, ["--backend=headless-backend.so", "--socket=wayland-vmm", "--idle-time=0", "--no-config"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["XDG_RUNTIME_DIR"] = _runtimeDirectory;
        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        long deadline = Environment.TickCount64 + 30_000;
        while (!File.Exists(SocketPath))
        {
            if (_process.HasExited || Environment.TickCount64 > deadline)
            {
                SkipReason = $"weston did not open {SocketPath} within 30 s (exit code {(_process.HasExited ? _process.ExitCode : "none")})";
                return;
            }

            Thread.Sleep(20);
        }
    }

    /// <summary>Why the tests cannot use a compositor here; null when it runs.</summary>
    public string? SkipReason { get; }

    /// <summary>The compositor's socket (absolute, as a <c>waylandDisplay</c> option takes it).</summary>
    public string SocketPath { get; } = string.Empty;

    /// <inheritdoc />
    public void Dispose()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill();
            _process.WaitForExit(10_000);
        }

        _process?.Dispose();
        if (_runtimeDirectory is not null)
        {
            Directory.Delete(_runtimeDirectory, recursive: true);
        }
    }
}
