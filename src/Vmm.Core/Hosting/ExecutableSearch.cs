namespace Vmm.Core.Hosting;

/// <summary>Finds host programs (QEMU, the guest-image build's tools, and the compilers and clients tests drive) the way a shell does.</summary>
public static class ExecutableSearch
{
    /// <summary>The first <c>$PATH</c> folder's <paramref name="name"/> that exists, or null (no such program, or no PATH).</summary>
    public static string? FindOnPath(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        string? path = Environment.GetEnvironmentVariable("PATH");
        if (path is null)
        {
            return null;
        }

        foreach (string folder in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(folder, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
