using Vmm.Core.Plugins;

namespace Vmm.Core.Config;

/// <summary>The outcome of loading a VM config: the spec when valid, and every error and warning found.</summary>
public sealed class VmConfigResult
{
    internal VmConfigResult(VmSpec? spec, IReadOnlyList<ConfigError> errors, IReadOnlyList<string> warnings, IPluginCatalog? plugins)
    {
        Spec = spec;
        Errors = errors;
        Warnings = warnings;
        Plugins = plugins;
    }

    /// <summary>The validated spec; null when there are errors.</summary>
    public VmSpec? Spec { get; }

    /// <summary>Every problem found: shape problems (unknown members) first, then each section in turn.</summary>
    public IReadOnlyList<ConfigError> Errors { get; }

    /// <summary>Things that do not stop the VM (a device skipped because its optional plugin is missing).</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>The plugin catalog the devices were checked against; null when the config could not be read.</summary>
    public IPluginCatalog? Plugins { get; }

    /// <summary>Whether the config is valid.</summary>
    public bool IsValid => Spec is not null;

    /// <summary>Whether any error is a plugin that failed to load (rather than a mistake in the config).</summary>
    public bool HasPluginFailures => Errors.Any(e => e.Kind == ConfigErrorKind.PluginFailed);
}
