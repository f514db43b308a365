namespace Vmm.Cli.Tests;

/// <summary>A temp folder for config files and sockets.</summary>
internal sealed class CliFixture : IDisposable
{
    public CliFixture()
    {
        // Short: Unix socket paths are limited to 107 bytes.
        Directory = Path.Combine(Path.GetTempPath(), "vmm-cli-" + Guid.NewGuid().ToString("N")[..8]);
        System.IO.Directory.CreateDirectory(Directory);
    }

    public string Directory { get; }

    public string Write(string name, string content)
    {
        string path = Path.Combine(Directory, name);
        File.WriteAllText(path, content);
        return path;
    }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}
