namespace Vmm.Cli.Exec;

/// <summary>
/// The exec protocol's names, declared once (the agent's twin is tools/guest-agents/vmm-exec-agent/protocol.h): one
/// connection per command carries a Nerdbank.Streams <c>MultiplexingStream</c> (protocol major version 1, which a
/// static C agent can speak: a fixed binary frame header, no MessagePack) with four channels that <c>vmm exec</c>
/// offers by name. The control channel carries NUL-terminated <c>key=value</c> records both ways.
/// </summary>
internal static class ExecProtocol
{
    /// <summary>The MultiplexingStream protocol major version both sides speak.</summary>
    public const int MultiplexingProtocolVersion = 1;

    /// <summary>Requests (host to agent), then pid and exit status (agent to host), as records.</summary>
    public const string ControlChannel = "control";

    /// <summary>The command's stdin (or the pty's input); completing it closes stdin (on a pty: ^D).</summary>
    public const string StandardInputChannel = "stdin";

    /// <summary>The command's stdout, or the pty's output.</summary>
    public const string StandardOutputChannel = "stdout";

    /// <summary>The command's stderr; completed at once on a pty.</summary>
    public const string StandardErrorChannel = "stderr";

    /// <summary>EXEC_MAX_REQUEST: the longest request, and the longest record either side accepts.</summary>
    public const int MaxRecordBytes = 64 * 1024;

    /// <summary>Host to agent: the record that ends a request and starts the command.</summary>
    public const string RunRecord = "run";

    /// <summary>Host to agent, after run: <c>signal=N</c> for the command's process group.</summary>
    public const string SignalKey = "signal";

    /// <summary>Host to agent, after run: <c>winsize=ROWS,COLS</c> for the pty.</summary>
    public const string WindowSizeKey = "winsize";

    /// <summary>Agent to host: <c>pid=N</c>, the command runs.</summary>
    public const string PidKey = "pid";

    /// <summary>Agent to host, last: <c>exit=N</c>, the command's exit status.</summary>
    public const string ExitKey = "exit";

    /// <summary>Agent to host, last: <c>signal=N</c>, the signal that killed the command.</summary>
    public const string KilledBySignalKey = "signal";

    /// <summary>Agent to host, last: <c>error=MESSAGE</c>, the command could not be run (a bad request, a protocol error).</summary>
    public const string ErrorKey = "error";
}
