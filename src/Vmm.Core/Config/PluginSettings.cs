namespace Vmm.Core.Config;

/// <summary>The <c>plugins</c> section: where to look for plugins and which ones may be missing.</summary>
/// <param name="Paths">Absolute folders to search, in order.</param>
/// <param name="Optional">Names of plugins whose devices are skipped (with a warning) when the plugin is missing or fails.</param>
public sealed record PluginSettings(IReadOnlyList<string> Paths, IReadOnlyList<string> Optional);
