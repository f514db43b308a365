using System.Diagnostics;
using Vmm.Core.Hosting;

namespace Vmm.Plugins.CrossDomain.Testing.X11;

/// <summary>
/// <c>x11-probe</c>, the small xcb client in <c>X11/Clients/x11-probe.c</c> (draws through core or MIT-SHM PutImage,
/// reports input events, times round trips and PutImage), built with gcc against libxcb and libxcb-shm on first use.
/// </summary>
public static class XProbe
{
    private static readonly Lazy<(string? Path, string? Why)> s_built = new(Build);

    /// <summary>Why the probe cannot be built here (no gcc or no xcb headers); null when it can.</summary>
    public static string? SkipReason => ExecutableSearch.FindOnPath("gcc") is null ? "gcc is not installed"
        : !File.Exists("/usr/include/xcb/shm.h") ? "the xcb MIT-SHM headers are not installed (apt-get install libxcb1-dev libxcb-shm0-dev)" : null;

    /// <summary>The built executable.</summary>
    /// <exception cref="InvalidOperationException">It cannot be built here (see <see cref="SkipReason"/>), or gcc failed.</exception>
    public static string Path => s_built.Value.Path ?? throw new InvalidOperationException(s_built.Value.Why);

    private static (string?, string?) Build()
    {
        string? gcc = ExecutableSearch.FindOnPath("gcc");
        if (gcc is null)
        {
            return (null, "gcc is not installed");
        }

        if (!File.Exists("/usr/include/xcb/shm.h"))
        {
            return (null, "the xcb MIT-SHM headers are not installed (apt-get install libxcb-shm0-dev)");
        }

        string source = System.IO.Path.Combine(AppContext.BaseDirectory, "X11", "Clients", "x11-probe.c");
        string output = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"x11-probe-{Environment.ProcessId}");
        var start = new ProcessStartInfo(gcc) { RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in new[] { "-O2", "-o", output, source, "-lxcb", "-lxcb-shm" })
        {
            start.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(start)!;
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0 ? (output, null) : (null, $"gcc could not build x11-probe: {error}");
    }
}
