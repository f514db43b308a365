namespace Vmm.Plugins.CrossDomain.Host;

/// <summary>
/// A host display server's socket as configured: the only addresses a cross-domain channel of that type may
/// connect to. The guest never names a path; it names a channel type.
/// </summary>
/// <param name="Name">What was configured (<c>:0</c>, a path, <c>wayland-0</c>), for messages.</param>
/// <param name="Addresses">The addresses tried in order: a path, or an abstract name starting with '@'.</param>
internal sealed record DisplaySocket(string Name, IReadOnlyList<string> Addresses)
{
    /// <summary>
    /// An X11 display: <c>:N</c> or <c>:N.S</c> (the abstract socket <c>@/tmp/.X11-unix/XN</c>, then the path
    /// <c>/tmp/.X11-unix/XN</c>, as libxcb tries them), an absolute socket path, or <c>@name</c> for an abstract socket.
    /// </summary>
    /// <returns>Null with <paramref name="problem"/> set when the value is none of these.</returns>
    public static DisplaySocket? ParseX11(string value, out string? problem)
    {
        problem = null;
        if (value.StartsWith('/') || (value.StartsWith('@') && value.Length > 1))
        {
            return new DisplaySocket(value, [value]);
        }

        if (value.StartsWith(':'))
        {
            string number = value[1..];
            int dot = number.IndexOf('.', StringComparison.Ordinal);
            if (dot >= 0)
            {
                number = number[..dot];
            }

            if (number.Length is > 0 and <= 6 && number.All(char.IsAsciiDigit))
            {
                string path = $"/tmp/.X11-unix/X{number}";
                return new DisplaySocket(value, ["@" + path, path]);
            }
        }

        problem = $"'{value}' is not an X11 display (':0', ':1.0'), a socket path ('/tmp/.X11-unix/X0') or an abstract socket ('@/tmp/.X11-unix/X0'); TCP displays are not forwarded";
        return null;
    }

    /// <summary>A Wayland display: an absolute socket path, or a name in <paramref name="runtimeDirectory"/> (<c>$XDG_RUNTIME_DIR</c>).</summary>
    public static DisplaySocket? ParseWayland(string value, string? runtimeDirectory, out string? problem)
    {
        problem = null;
        if (value.StartsWith('/'))
        {
            return new DisplaySocket(value, [value]);
        }

        if (value.Length == 0 || value.Contains('/', StringComparison.Ordinal))
        {
            problem = $"'{value}' is not a Wayland display name ('wayland-0') or an absolute socket path";
            return null;
        }

        if (string.IsNullOrEmpty(runtimeDirectory))
        {
            problem = $"'{value}' is relative to $XDG_RUNTIME_DIR, which is not set; give an absolute socket path";
            return null;
        }

        return new DisplaySocket(value, [Path.Combine(runtimeDirectory, value)]);
    }

    /// <summary>Connects to the first address that answers.</summary>
    /// <exception cref="IOException">None did; the message lists why for each.</exception>
    public UnixStream Connect()
    {
        var failures = new List<string>();
        foreach (string address in Addresses)
        {
            try
            {
                return UnixStream.Connect(address);
            }
            catch (IOException exception)
            {
                failures.Add(exception.Message);
            }
        }

        throw new IOException($"display '{Name}' cannot be reached: {string.Join("; ", failures)}");
    }
}
