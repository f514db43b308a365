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
}
