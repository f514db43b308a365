using System.Diagnostics;

namespace Vmm.Cli.Exec;

/// <summary>
/// Puts the controlling terminal in raw mode (no echo, no line editing, no signals from keys: Ctrl-C reaches the
/// guest's pty as a byte) and restores the saved settings on dispose. Uses stty on vmm's own stdin, so it needs no
/// termios interop of its own.
/// </summary>
internal sealed class TerminalRawMode : IDisposable
{
    private readonly string _saved;
    private bool _restored;

    private TerminalRawMode(string saved) => _saved = saved;

    /// <summary>Raw mode on the terminal vmm's stdin is, or null when stdin is not a terminal (or stty is missing).</summary>
    public static TerminalRawMode? TryEnter()
    {
        if (Console.IsInputRedirected)
        {
            return null;
        }

        string? saved = Stty("-g");
        if (string.IsNullOrWhiteSpace(saved) || Stty("raw", "-echo") is null)
        {
            return null;
        }

        return new TerminalRawMode(saved.Trim());
    }

    /// <summary>Restores the settings saved on entry.</summary>
    public void Dispose()
    {
        if (!_restored)
        {
            _restored = true;
            Stty(_saved);
        }
    }

    private static string? Stty(params string[] arguments)
    {
        var start = new ProcessStartInfo("stty") { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        try
        {
            using Process process = Process.Start(start)!;
            string output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return process.ExitCode == 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}
