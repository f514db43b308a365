using System.Diagnostics;
using System.Globalization;

namespace Vmm.Plugins.Display.Testing;

/// <summary>
/// A real VNC client for tests that stays connected: <c>tools/vnc-client/vnc-type</c> (LibVNCClient), built by
/// <c>tools/vnc-client/build.sh</c> into <c>.cache/vnc-client</c>. It types strings as key strokes (Shift_L around
/// shifted characters, Return at the end) and reports every desktop resize the server announces as a line
/// <c>resize WxH</c>. Every stdout line is kept in <see cref="Lines"/>.
/// </summary>
public sealed class VncTypeClient : IDisposable
{
    private readonly Process _process;
    private readonly List<string> _lines = [];
    private readonly Lock _lock = new();
    private readonly System.Text.StringBuilder _stderr = new();

    private VncTypeClient(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (_lock)
                {
                    _lines.Add(e.Data);
                }
            }
        };
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (_lock)
                {
                    _stderr.AppendLine(e.Data);
                }
            }
        };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>The client's stdout lines so far.</summary>
    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lock)
            {
                return [.. _lines];
            }
        }
    }

    /// <summary>What the client (and LibVNCClient's log) wrote to stderr.</summary>
    public string Errors
    {
        get
        {
            lock (_lock)
            {
                return _stderr.ToString();
            }
        }
    }

    /// <summary>Whether the client process is still running (it exits when the server drops it).</summary>
    public bool IsRunning => !_process.HasExited;

    /// <summary>
    /// Builds the client when needed and returns its path, or null with the reason (gcc or libvncclient missing,
    /// no repository root) in <paramref name="problem"/>.
    /// </summary>
    public static string? TryBuild(out string? problem)
    {
        string? repo = FindRepositoryRoot();
        if (repo is null)
        {
            problem = "no repository root (Framework.sln) above " + AppContext.BaseDirectory;
            return null;
        }

        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(Path.Combine(repo, "tools", "vnc-client", "build.sh"));
        using Process build = Process.Start(info)!;
        Task<string> stdout = build.StandardOutput.ReadToEndAsync();
        Task<string> stderr = build.StandardError.ReadToEndAsync();
        if (!build.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            build.Kill(entireProcessTree: true);
            problem = "tools/vnc-client/build.sh timed out";
            return null;
        }

        if (build.ExitCode != 0)
        {
            problem = $"tools/vnc-client/build.sh exited {build.ExitCode}: {stderr.Result.Trim()}";
            return null;
        }

        problem = null;
        return stdout.Result.Trim();
    }

    /// <summary>Starts the client in its stay-connected mode against 127.0.0.1:<paramref name="port"/>.</summary>
    public static VncTypeClient Start(string clientPath, int port)
    {
        ArgumentException.ThrowIfNullOrEmpty(clientPath);
        var info = new ProcessStartInfo(clientPath)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.ArgumentList.Add("127.0.0.1");
        info.ArgumentList.Add(port.ToString(CultureInfo.InvariantCulture));
        return new VncTypeClient(Process.Start(info)!);
    }

    /// <summary>Waits until a stdout line satisfies <paramref name="match"/>; returns it, or null after <paramref name="timeout"/> or when the client exits.</summary>
    public async Task<string?> WaitForLineAsync(Func<string, bool> match, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(match);
        var stopwatch = Stopwatch.StartNew();
        while (stopwatch.Elapsed < timeout)
        {
            string? found = Lines.FirstOrDefault(match);
            if (found is not null)
            {
                return found;
            }

            if (_process.HasExited)
            {
                // Lines written just before the exit may still be in flight.
                _process.WaitForExit();
                return Lines.FirstOrDefault(match);
            }

            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }

        return null;
    }

    /// <summary>Sends one command line (<c>type TEXT</c>, <c>size</c>, <c>quit</c>) to the client.</summary>
    public async Task SendAsync(string command)
    {
        ArgumentNullException.ThrowIfNull(command);
        await _process.StandardInput.WriteLineAsync(command).ConfigureAwait(false);
        await _process.StandardInput.FlushAsync().ConfigureAwait(false);
    }

    /// <summary>Types <paramref name="text"/> and Return; returns the client's <c>typed N</c> line, or null.</summary>
    public async Task<string?> TypeAsync(string text, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        int before = Lines.Count(l => l.StartsWith("typed ", StringComparison.Ordinal));
        await SendAsync("type " + text).ConfigureAwait(false);
        var stopwatch = Stopwatch.StartNew();
        while (stopwatch.Elapsed < timeout && !_process.HasExited)
        {
            string[] typed = [.. Lines.Where(l => l.StartsWith("typed ", StringComparison.Ordinal))];
            if (typed.Length > before)
            {
                return typed[^1];
            }

            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }

        return null;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (!_process.HasExited)
        {
            try
            {
                _process.StandardInput.WriteLine("quit");
                _process.StandardInput.Flush();
            }
            catch (IOException)
            {
                // It is going anyway.
            }

            if (!_process.WaitForExit(TimeSpan.FromSeconds(5)))
            {
                _process.Kill(entireProcessTree: true);
            }
        }

        _process.Dispose();
    }

    private static string? FindRepositoryRoot()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Framework.sln")))
            {
                return dir.FullName;
            }
        }

        return null;
    }
}
