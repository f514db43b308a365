namespace Vmm.Contracts;

/// <summary>
/// The version of the plugin ABI this assembly defines. A plugin's manifest names the version it was built
/// against; the host loads it when the majors match and the plugin's minor is not newer than the host's.
/// </summary>
public static class ContractVersion
{
    /// <summary>Incremented on a breaking change to any public contract type.</summary>
    public const int Major = 1;

    /// <summary>Incremented on an additive change (a new interface, a new default interface method).</summary>
    public const int Minor = 2;

    /// <summary>The version as <c>Major.Minor</c>.</summary>
    public static Version Current { get; } = new(Major, Minor);

    /// <summary>Whether a plugin built against <paramref name="pluginVersion"/> can run on this host.</summary>
    public static bool IsCompatible(Version pluginVersion)
    {
        ArgumentNullException.ThrowIfNull(pluginVersion);
        return pluginVersion.Major == Major && pluginVersion.Minor <= Minor;
    }
}
