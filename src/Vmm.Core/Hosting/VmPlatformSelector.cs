using Vmm.Core.Config;

namespace Vmm.Core.Hosting;

/// <summary>Picks the platform a spec runs on.</summary>
public static class VmPlatformSelector
{
    /// <summary>
    /// Picks the platform for <paramref name="requested"/> from <paramref name="platforms"/> (in preference order).
    /// <see cref="PlatformKind.Auto"/> takes the first available one that suits it (<see cref="IAutoSelectablePlatform"/>). The result names the chosen platform, or,
    /// when none can run, the one that would have been chosen and why it cannot (for <c>auto</c>: why each cannot).
    /// </summary>
    public static PlatformSelection Select(PlatformKind requested, IReadOnlyList<IVmPlatform> platforms)
    {
        ArgumentNullException.ThrowIfNull(platforms);
        IEnumerable<IVmPlatform> candidates = requested == PlatformKind.Auto ? platforms : platforms.Where(p => p.Kind == requested);
        IVmPlatform? first = null;
        string? firstReason = null;
        List<string> reasons = [];
        foreach (IVmPlatform platform in candidates)
        {
            if (platform.IsAvailable(out string? reason)
                && (requested != PlatformKind.Auto || platform is not IAutoSelectablePlatform selectable || selectable.SuitsAuto(out reason)))
            {
                return new PlatformSelection(requested, platform, null);
            }

            reasons.Add(reason.StartsWith($"platform '{platform.Name}'", StringComparison.Ordinal) ? reason : $"{platform.Name}: {reason}");
            if (first is null)
            {
                first = platform;
                firstReason = reason;
            }
        }

        string name = requested.ToString().ToLowerInvariant();
        string why = first is null
            ? $"platform '{name}' is not available in this build"
            : requested == PlatformKind.Auto
                ? $"platform 'auto' found no platform that can run the VM: {string.Join("; ", reasons)}"
                : firstReason!;
        return new PlatformSelection(requested, first, why);
    }
}

/// <summary>The outcome of <see cref="VmPlatformSelector.Select"/>.</summary>
/// <param name="Requested">What the config asked for.</param>
/// <param name="Platform">The chosen platform, or the one that would have been chosen; null when none matches.</param>
/// <param name="UnavailableReason">Why no platform can run the VM; null when <paramref name="Platform"/> is available.</param>
public sealed record PlatformSelection(PlatformKind Requested, IVmPlatform? Platform, string? UnavailableReason)
{
    /// <summary>Whether a platform can run the VM.</summary>
    public bool IsAvailable => UnavailableReason is null;
}
