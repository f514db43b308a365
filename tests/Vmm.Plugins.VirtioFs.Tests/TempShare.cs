namespace Vmm.Plugins.VirtioFs.Tests;

/// <summary>A temporary folder holding the share ("share/") and a sibling the guest must never reach ("outside/").</summary>
internal sealed class TempShare : IDisposable
{
    public TempShare()
    {
        Root = Directory.CreateTempSubdirectory("vmm-virtiofs-").FullName;
        Share = Directory.CreateDirectory(Path.Combine(Root, "share")).FullName;
        Outside = Directory.CreateDirectory(Path.Combine(Root, "outside")).FullName;
        File.WriteAllText(Path.Combine(Outside, "secret"), "outside secret");
    }

    public string Root { get; }

    public string Share { get; }

    public string Outside { get; }

    public string InShare(string relative) => Path.Combine(Share, relative);

    /// <summary>A listing of everything outside the share (names, sizes, contents hash), to prove nothing changed.</summary>
    public string SnapshotOutside()
    {
        var lines = new List<string>();
        foreach (string path in Directory.EnumerateFileSystemEntries(Root, "*", new EnumerationOptions { RecurseSubdirectories = false }).Order(StringComparer.Ordinal))
        {
            if (path == Share)
            {
                continue;
            }

            lines.Add(path);
            if (Directory.Exists(path))
            {
                foreach (string inner in Directory.EnumerateFileSystemEntries(path, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
                {
                    var info = new FileInfo(inner);
                    lines.Add($"{inner} {(info.Exists ? info.Length + ":" + File.ReadAllText(inner) : "dir")}");
                }
            }
        }

        return string.Join('\n', lines);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
