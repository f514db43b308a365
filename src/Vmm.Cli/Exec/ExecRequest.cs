using System.Globalization;

namespace Vmm.Cli.Exec;

/// <summary>What <c>vmm exec</c> asks the guest agent to run: the control channel's request records.</summary>
internal sealed record ExecRequest(IReadOnlyList<string> Command)
{
    /// <summary>Environment entries (<c>K=V</c>) added to the agent's.</summary>
    public IReadOnlyList<string> Environment { get; init; } = [];

    /// <summary>The working directory, or null for the agent's.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>The user id to run as, or null for the agent's (root).</summary>
    public int? UserId { get; init; }

    /// <summary>Run on a pty of this size (rows, columns), or null for three pipes.</summary>
    public (int Rows, int Columns)? Terminal { get; init; }

    /// <summary>The request's records, ending with <see cref="ExecProtocol.RunRecord"/>.</summary>
    public IEnumerable<string> Records()
    {
        foreach (string argument in Command)
        {
            yield return "arg=" + argument;
        }

        foreach (string variable in Environment)
        {
            yield return "env=" + variable;
        }

        if (WorkingDirectory is not null)
        {
            yield return "cwd=" + WorkingDirectory;
        }

        if (UserId is int uid)
        {
            yield return "uid=" + uid.ToString(CultureInfo.InvariantCulture);
        }

        if (Terminal is (int rows, int columns))
        {
            yield return "tty=1";
            yield return "rows=" + rows.ToString(CultureInfo.InvariantCulture);
            yield return "cols=" + columns.ToString(CultureInfo.InvariantCulture);
        }

        yield return ExecProtocol.RunRecord;
    }
}
