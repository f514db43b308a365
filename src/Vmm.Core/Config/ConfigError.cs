namespace Vmm.Core.Config;

/// <summary>One problem in a VM config: the JSON path of the value and what was expected.</summary>
/// <param name="Path">The JSON path, for example <c>$.devices[2].id</c>.</param>
/// <param name="Message">What was expected and what was there.</param>
/// <param name="Kind">Whether the config is wrong or a plugin it needs failed to load.</param>
public sealed record ConfigError(string Path, string Message, ConfigErrorKind Kind = ConfigErrorKind.Invalid)
{
    /// <summary>The report line: <c>&lt;path&gt;: &lt;message&gt;</c>.</summary>
    public override string ToString() => $"{Path}: {Message}";
}

/// <summary>What kind of problem a <see cref="ConfigError"/> is; the CLI maps it to an exit code.</summary>
public enum ConfigErrorKind
{
    /// <summary>The config itself is wrong.</summary>
    Invalid,

    /// <summary>A plugin the config needs was found but failed to load.</summary>
    PluginFailed,
}
