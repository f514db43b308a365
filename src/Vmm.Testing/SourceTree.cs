namespace Vmm.Testing;

/// <summary>Where the checkout a test runs from lies: tests that build or run the repository's tools find them here.</summary>
public static class SourceTree
{
    /// <summary>
    /// The checkout's root (the folder with Framework.sln) above the test's output folder.
    /// </summary>
    /// <exception cref="InvalidOperationException">The test does not run from inside a checkout.</exception>
    public static string Root
    {
        get
        {
            for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(Path.Combine(directory.FullName, "Framework.sln")))
                {
                    return directory.FullName;
                }
            }

            throw new InvalidOperationException($"No Framework.sln above {AppContext.BaseDirectory}: the test does not run from a checkout.");
        }
    }

    /// <summary>
    /// A plugin project's own build folder, plugins/&lt;project&gt;/bin/&lt;configuration&gt;/&lt;framework&gt;, in the
    /// configuration and framework the test runs in (the plugin is built because the test project references it).
    /// </summary>
    /// <exception cref="InvalidOperationException">The test does not run from inside a checkout, or the plugin is not built there.</exception>
    public static string PluginOutput(string project)
    {
        // The test runs from .../bin/<configuration>/<framework>/.
        var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string folder = Path.Combine(Root, "plugins", project, "bin", output.Parent!.Name, output.Name);
        return File.Exists(Path.Combine(folder, "vmm-plugin.json"))
            ? folder
            : throw new InvalidOperationException($"{project} is not built at {folder} (no vmm-plugin.json).");
    }
}
