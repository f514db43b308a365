namespace Vmm.Contracts;

/// <summary>
/// The version of the plugin ABI this assembly defines. A plugin's manifest names the version it was built
/// against; the host loads it when the majors match and the plugin's minor is not newer than the host's.
/// </summary>
/// <remarks>
/// <see cref="Major"/> and <see cref="Minor"/> are generated from the one contract version in
/// <c>contracts/ContractVersion.props</c>, from which the assembly and package versions follow too.
/// </remarks>
public static partial class ContractVersion
{
    /// <summary>The version as <c>Major.Minor</c>.</summary>
    public static Version Current { get; } = new(Major, Minor);

    /// <summary>Whether a plugin built against <paramref name="pluginVersion"/> can run on this host.</summary>
    public static bool IsCompatible(Version pluginVersion)
    {
        ArgumentNullException.ThrowIfNull(pluginVersion);
        return pluginVersion.Major == Major && pluginVersion.Minor <= Minor;
    }
}
