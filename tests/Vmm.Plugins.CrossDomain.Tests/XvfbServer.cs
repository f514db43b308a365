using System.Diagnostics;
using Vmm.Core.Hosting;

namespace Vmm.Plugins.CrossDomain.Tests;

/// <summary>A real X server for the tests: <c>Xvfb -displayfd 1 -nolisten tcp</c>, on a display number it picks itself.</summary>
public sealed class XvfbServer : IDisposable
{
    private readonly Process? _process;

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
        foreach (string argument in new[] { "-displayfd", "1", "-nolisten", "tcp", "-screen", "0", "640x480x24" })
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

    public int Number { get; }

    public string Display { get; } = string.Empty;

    /// <summary>Runs an X client against this display; returns its standard output.</summary>
    public string RunClient(string program, params string[] arguments)
    {
        string path = ExecutableSearch.FindOnPath(program) ?? throw new InvalidOperationException($"{program} is not installed");
        var start = new ProcessStartInfo(path) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.Environment["DISPLAY"] = Display;
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(start)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(30_000), $"{program} did not finish");
        Assert.True(process.ExitCode == 0, $"{program} failed ({process.ExitCode}): {error.Result}");
        return output.Result;
    }

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
