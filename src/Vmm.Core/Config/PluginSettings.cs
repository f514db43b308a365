namespace Vmm.Core.Config;

/// <summary>The <c>plugins</c> section: where to look for plugins and which ones may be missing.</summary>
/// <param name="Paths">Absolute folders the config names, searched in order before the built-in ones.</param>
/// <param name="Optional">Names of plugins whose devices are skipped (with a warning) when the plugin is missing or fails.</param>
/// <param name="BuiltInPaths">
/// The folders of the plugins shipped with vmm, searched after <paramref name="Paths"/> (a plugin there gives way to
/// one of the same name in <paramref name="Paths"/>); empty when the config says <c>"builtIn": false</c>.
/// </param>
public sealed record PluginSettings(IReadOnlyList<string> Paths, IReadOnlyList<string> Optional, IReadOnlyList<string> BuiltInPaths)
{
    /// <summary>Every folder to search, the config's first.</summary>
    public IReadOnlyList<string> AllPaths => [.. Paths, .. BuiltInPaths.Where(b => !Paths.Contains(b, StringComparer.Ordinal))];

    /// <summary>
    /// The plugins the config's devices name: all its VM loads (the others are only discovered, so start-up does not
    /// pay for plugins it does not use); null when every plugin found should load.
    /// </summary>
    public IReadOnlyList<string>? Named { get; init; }

    /// <summary>
    /// Whether a plugin may be reloaded while the VM runs: true when the config has a <c>control</c> section, the only
    /// way to ask for a reload (<c>vmm ctl plugins reload</c>). Plugins load into collectible contexts only then, since
    /// the runtime ignores their ReadyToRun code in one.
    /// </summary>
    public bool Reloadable { get; init; }
}
