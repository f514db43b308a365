namespace Vmm.Plugins.VirtioRng.Tests;

/// <summary>A temporary search path holding copies of built plugins, whose manifests a test may rewrite.</summary>
internal sealed class TempPluginFolder : IDisposable
{
    public TempPluginFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "vmm-plugin-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    /// <summary>Copies the plugin folder <paramref name="source"/> to <c>&lt;Path&gt;/&lt;name&gt;</c> and returns the copy.</summary>
    public string AddCopy(string source, string name, Func<string, string>? editManifest = null)
    {
        string destination = System.IO.Path.Combine(Path, name);
        Directory.CreateDirectory(destination);
        foreach (string file in Directory.EnumerateFiles(source))
        {
            File.Copy(file, System.IO.Path.Combine(destination, System.IO.Path.GetFileName(file)));
        }

        if (editManifest is not null)
        {
            string manifest = System.IO.Path.Combine(destination, "vmm-plugin.json");
            File.WriteAllText(manifest, editManifest(File.ReadAllText(manifest)));
        }

        return destination;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A loaded plugin may still hold a file; the temp folder is cleaned by the OS eventually.
        }
    }
}
