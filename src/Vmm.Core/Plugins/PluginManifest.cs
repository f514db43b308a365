namespace Vmm.Core.Plugins;

/// <summary>
/// A plugin's <c>vmm-plugin.json</c>, found next to its main assembly. The host reads it before loading any code:
/// the contract version is checked first, and every device type a plugin registers must be declared here.
/// </summary>
/// <param name="Name">The plugin's name, unique per host; what VM configs and <c>vmm plugins list</c> use.</param>
/// <param name="Version">The plugin's own version (free text, usually SemVer).</param>
/// <param name="ContractVersion">The contract version (<c>Major.Minor</c>) the plugin was built against.</param>
/// <param name="Assembly">The file name of the plugin's main assembly, in the manifest's folder.</param>
/// <param name="EntryPoint">The full name of the type implementing <c>IVmmPlugin</c>.</param>
/// <param name="DeviceTypes">The device types the plugin's factories provide.</param>
/// <param name="Description">A one-line description; empty when the manifest has none.</param>
public sealed record PluginManifest(
    string Name,
    string Version,
    Version ContractVersion,
    string Assembly,
    string EntryPoint,
    IReadOnlyList<string> DeviceTypes,
    string Description)
{
    /// <summary>The manifest's file name.</summary>
    public const string FileName = "vmm-plugin.json";
}
