using Vmm.Contracts;

namespace Vmm.Core.Plugins;

/// <summary>A <c>vmm-plugin.json</c> that cannot be read: bad JSON, or a field missing or wrong.</summary>
public sealed class PluginManifestException : VmmException
{
    /// <summary>Creates the exception for the field at <paramref name="jsonPath"/> of <paramref name="manifestPath"/>.</summary>
    public PluginManifestException(string manifestPath, string jsonPath, string problem, Exception? innerException = null)
        : base($"{manifestPath}: {jsonPath}: {problem}", innerException)
    {
        ManifestPath = manifestPath;
        JsonPath = jsonPath;
        Problem = problem;
    }

    /// <summary>The manifest file.</summary>
    public string ManifestPath { get; }

    /// <summary>The JSON path of the bad or missing field (<c>$</c> for the whole document).</summary>
    public string JsonPath { get; }

    /// <summary>What is wrong, without the file and path.</summary>
    public string Problem { get; }
}
