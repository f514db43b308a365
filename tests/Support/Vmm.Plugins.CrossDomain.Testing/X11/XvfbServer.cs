using System.Diagnostics;
using Vmm.Core.Hosting;

namespace Vmm.Plugins.CrossDomain.Testing.X11;

/// <summary>
/// A real X server for tests and benchmarks: <c>Xvfb -displayfd 1 -nolisten tcp -noreset -br</c> (no server reset when the last client leaves, which would refuse
/// connections for a moment; a black root, so a
/// client's drawing stands out), 640x480x24, on a display number it picks itself.
/// </summary>
public sealed class XvfbServer : IDisposable
{
    private readonly Process? _process;

    /// <summary>Starts Xvfb; <see cref="SkipReason"/> says why not when it cannot.</summary>
    public XvfbServer()
    {
        string? xvfb = ExecutableSearch.FindOnPath("Xvfb");
        if (xvfb is null)
        {
            SkipReason = "Xvfb is not installed (apt-get install xvfb)";
            return;
        }

        if (ExecutableSearch.FindOnPath("xwininfo") is null)
        {
            SkipReason = "xwininfo is not installed (apt-get install x11-utils)";
            return;
        }

        var start = new ProcessStartInfo(xvfb)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in new[] { "-displayfd", "1", "-nolisten", "tcp", "-noreset", "-br", "-screen", "0", "640x480x24" })
        {
            start.ArgumentList.Add(argument);
        }

        _process = Process.Start(start)!;
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginErrorReadLine();
        Task<string?> line = _process.StandardOutput.ReadLineAsync();
        if (!line.Wait(TimeSpan.FromSeconds(30)) || !int.TryParse(line.Result, out int number))
        {
            SkipReason = "Xvfb did not report a display number within 30 s";
            return;
        }

        Number = number;
        Display = $":{number}";
    }

    /// <summary>Why the tests cannot use an X server here; null when it runs.</summary>
    public string? SkipReason { get; }

    /// <summary>The display number.</summary>
    public int Number { get; }

    /// <summary>The DISPLAY value (":N").</summary>
    public string Display { get; } = string.Empty;

    /// <summary>Runs an X client against this display; returns its standard output.</summary>
    public string RunClient(string program, params string[] arguments) => Run(Display, program, arguments).Output;

    /// <summary>
    /// Runs <paramref name="program"/> with DISPLAY=<paramref name="display"/> and waits at most 60 s; returns its
    /// exit code and output.
    /// </summary>
    /// <exception cref="InvalidOperationException">It is not installed, does not finish, or fails.</exception>
    public static (int ExitCode, string Output, string Error) Run(string display, string program, params string[] arguments)
    {
        using Process process = StartClient(display, program, arguments);
        process.StandardInput.Close();
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(60_000))
        {
            process.Kill();
            throw new InvalidOperationException($"{program} did not finish within 60 s");
        }

        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} failed ({process.ExitCode}): {error.Result}");
        }

        return (process.ExitCode, output.Result, error.Result);
    }

    /// <summary>Starts <paramref name="program"/> with DISPLAY=<paramref name="display"/>, its streams redirected; the caller ends it.</summary>
    public static Process StartClient(string display, string program, params string[] arguments)
    {
        string path = program.Contains('/', StringComparison.Ordinal) ? program
            : ExecutableSearch.FindOnPath(program) ?? throw new InvalidOperationException($"{program} is not installed");
        var start = new ProcessStartInfo(path) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.Environment["DISPLAY"] = display;
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return Process.Start(start)!;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill();
            _process.WaitForExit(10_000);
        }

        _process?.Dispose();
    }
}
