namespace Vmm.Contracts.Devices;

/// <summary>
/// Collects the problems found in one device's options. Each problem becomes one line of the config validation
/// report, with its JSON path (for example <c>$.devices[2].options.seed</c>).
/// </summary>
public sealed class DeviceOptionsValidationContext
{
    private readonly List<(string Path, string Message)> _errors = [];

    /// <summary>Creates a context for the options object found at <paramref name="optionsPath"/>.</summary>
    /// <param name="optionsPath">The JSON path of the options object, for example <c>$.devices[2].options</c>.</param>
    /// <param name="baseDirectory">The folder relative paths in the config are resolved against.</param>
    public DeviceOptionsValidationContext(string optionsPath, string baseDirectory)
    {
        OptionsPath = optionsPath;
        BaseDirectory = baseDirectory;
    }

    /// <summary>The JSON path of the options object.</summary>
    public string OptionsPath { get; }

    /// <summary>The folder relative paths in the config are resolved against (the config file's folder).</summary>
    public string BaseDirectory { get; }

    /// <summary>The problems reported so far, each with its full JSON path.</summary>
    public IReadOnlyList<(string Path, string Message)> Errors => _errors;

    /// <summary>Reports a problem with the option <paramref name="member"/> (camelCase, or a sub-path like <c>modes[0].width</c>).</summary>
    public void AddError(string member, string message)
    {
        ArgumentNullException.ThrowIfNull(member);
        ArgumentNullException.ThrowIfNull(message);
        string path = member.Length == 0 ? OptionsPath
            : member[0] == '[' ? OptionsPath + member
            : OptionsPath + "." + member;
        _errors.Add((path, message));
    }

    /// <summary>Resolves a path from the config against <see cref="BaseDirectory"/>.</summary>
    public string ResolvePath(string path) => Path.GetFullPath(path, BaseDirectory);
}
