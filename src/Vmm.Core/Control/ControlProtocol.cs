namespace Vmm.Core.Control;

/// <summary>Constants of the control protocol: one JSON request per line, one JSON reply per line.</summary>
public static class ControlProtocol
{
    /// <summary>The protocol version this build speaks (the <c>v</c> member).</summary>
    public const int Version = 1;

    /// <summary>The longest request line accepted, in bytes without the newline.</summary>
    public const int MaxLineBytes = 1 << 20;
}

/// <summary>The <c>error.code</c> values of failed replies.</summary>
public static class ControlErrorCodes
{
    /// <summary>The line is not a JSON object with a string <c>command</c> (and an object <c>args</c>, if any).</summary>
    public const string MalformedRequest = "malformed-request";

    /// <summary>The request's <c>v</c> is missing or not a version this server speaks.</summary>
    public const string UnsupportedVersion = "unsupported-version";

    /// <summary>The line is longer than <see cref="ControlProtocol.MaxLineBytes"/>; it was skipped.</summary>
    public const string LineTooLong = "line-too-long";

    /// <summary>No command has that name.</summary>
    public const string UnknownCommand = "unknown-command";

    /// <summary>The command's arguments are wrong.</summary>
    public const string InvalidArguments = "invalid-args";

    /// <summary>The command cannot run in the VM's current state.</summary>
    public const string InvalidState = "invalid-state";

    /// <summary>The command failed unexpectedly; the message says why.</summary>
    public const string InternalError = "internal-error";

    /// <summary>The server stopped before the command finished.</summary>
    public const string Cancelled = "cancelled";
}
