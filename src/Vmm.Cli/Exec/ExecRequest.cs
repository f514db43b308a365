using System.Globalization;
using System.Text;

namespace Vmm.Cli.Exec;

/// <summary>What <c>vmm exec</c> asks the guest agent to run: the START frame's records.</summary>
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

    /// <summary>The START payload: NUL-terminated <c>key=value</c> records.</summary>
    public byte[] Encode()
    {
        var records = new StringBuilder();
        foreach (string argument in Command)
        {
            Append(records, "arg=" + argument);
        }

        foreach (string variable in Environment)
        {
            Append(records, "env=" + variable);
        }

        if (WorkingDirectory is not null)
        {
            Append(records, "cwd=" + WorkingDirectory);
        }

        if (UserId is int uid)
        {
            Append(records, "uid=" + uid.ToString(CultureInfo.InvariantCulture));
        }

        if (Terminal is (int rows, int columns))
        {
            Append(records, "tty=1");
            Append(records, "rows=" + rows.ToString(CultureInfo.InvariantCulture));
            Append(records, "cols=" + columns.ToString(CultureInfo.InvariantCulture));
        }

        return Encoding.UTF8.GetBytes(records.ToString());
    }

    private static void Append(StringBuilder records, string record)
    {
        if (record.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException($"'{record}' contains a NUL character.");
        }

        records.Append(record).Append('\0');
    }
}
