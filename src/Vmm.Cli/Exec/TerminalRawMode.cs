using Microsoft.Win32.SafeHandles;

namespace Vmm.Cli.Exec;

/// <summary>
/// Puts the controlling terminal on vmm's stdin in raw mode (cfmakeraw: no echo, no line editing, no signals from
/// keys, so Ctrl-C reaches the guest's pty as a byte) and restores the saved settings on dispose. Through tcsetattr
/// in-process, not a stty child: .NET puts back its own terminal settings whenever a child process it started ends.
/// </summary>
internal sealed class TerminalRawMode : IDisposable
{
    private readonly SafeFileHandle _terminal;
    private readonly byte[] _saved;
    private bool _restored;

    private TerminalRawMode(SafeFileHandle terminal, byte[] saved)
    {
        _terminal = terminal;
        _saved = saved;
    }

    /// <summary>Raw mode on the terminal vmm's stdin is, or null when stdin is not a terminal.</summary>
    public static TerminalRawMode? TryEnter()
    {
        if (Console.IsInputRedirected || OperatingSystem.IsWindows())
        {
            return null;
        }

        var terminal = new SafeFileHandle(0, ownsHandle: false);
        byte[] saved = new byte[global::Interop.TermiosSize];
        if (global::Interop.TcGetAttr(terminal, saved) != 0)
        {
            terminal.Dispose();
            return null;
        }

        byte[] raw = (byte[])saved.Clone();
        global::Interop.CfMakeRaw(raw);
        if (global::Interop.TcSetAttr(terminal, global::Interop.TcsaNow, raw) != 0)
        {
            terminal.Dispose();
            return null;
        }

        return new TerminalRawMode(terminal, saved);
    }

    /// <summary>
    /// The terminal's input as a plain unbuffered stream on fd 0. Not <see cref="Console.OpenStandardInput()"/>: on a
    /// terminal, .NET's console reads set their own terminal settings around every read, and raw mode would be lost.
    /// </summary>
    public Stream OpenInput() => new FileStream(new SafeFileHandle(0, ownsHandle: false), FileAccess.Read, bufferSize: 0);

    /// <summary>Restores the settings saved on entry.</summary>
    public void Dispose()
    {
        if (!_restored)
        {
            _restored = true;
            _ = global::Interop.TcSetAttr(_terminal, global::Interop.TcsaNow, _saved);
            _terminal.Dispose();
        }
    }
}
