using System.Text;
using System.Text.Json;
using Vmm.Core.Plugins;

namespace Vmm.Core.Config;

/// <summary>Turns a <see cref="RawVmConfig"/> into a <see cref="VmSpec"/>, collecting every problem on the way.</summary>
internal static class VmConfigValidator
{
    // sun_path is 108 bytes including the terminating NUL.
    private const int MaxSocketPathBytes = 107;

    /// <summary>Validates <paramref name="raw"/>; the spec is null when any error was found.</summary>
    public static VmSpec? Validate(RawVmConfig raw, PluginSettings plugins, IPluginCatalog catalog, ICollection<ConfigError> errors, ICollection<string> warnings)
    {
        int before = errors.Count;
        MachineSpec machine = MachineValidator.Validate(raw.Machine, raw.BaseDirectory, errors);
        PlatformKind platform = Platform(raw.Platform, errors);
        DeviceValidator devices = new(catalog, plugins, raw.BaseDirectory, errors, warnings);
        List<DeviceSpec> deviceSpecs = devices.Validate(raw.Devices);
        DisplaySpec? display = Display(raw.Display, devices.AllIds, deviceSpecs, errors, warnings);
        ControlSpec? control = Control(raw.Control, raw.BaseDirectory, errors);
        List<HostEvdevSpec> evdev = HostEvdevValidator.Validate(raw.EvdevSources, raw.BaseDirectory, devices.AllIds, errors);
        return errors.Count == before
            ? new VmSpec(machine, platform, deviceSpecs, display, control, raw.BaseDirectory) { HostEvdevSources = evdev }
            : null;
    }

    private static PlatformKind Platform(RawValue? value, ICollection<ConfigError> errors)
    {
        if (value is not RawValue present)
        {
            return PlatformKind.Auto;
        }

        switch (present.Kind == JsonValueKind.String ? present.Element.GetString() : null)
        {
            case "auto":
                return PlatformKind.Auto;
            case "kvm":
                return PlatformKind.Kvm;
            case "qemu":
                return PlatformKind.Qemu;
            default:
                ConfigValues.Wrong(present, "one of \"auto\", \"kvm\", \"qemu\"", errors);
                return PlatformKind.Auto;
        }
    }

    private static DisplaySpec? Display(RawObject? display, IReadOnlyCollection<string> allIds, List<DeviceSpec> created, ICollection<ConfigError> errors, ICollection<string> warnings)
    {
        if (display is null)
        {
            return null;
        }

        string? source = null;
        if (display["source"] is RawValue sourceValue)
        {
            source = DeviceReference(sourceValue, sourceValue.Path, allIds, errors);
        }
        else
        {
            ConfigValues.Missing(display.PathOf("source"), "the id of a display source device", errors);
        }

        List<string> sinks = [];
        if (display["sinks"] is RawValue sinksValue)
        {
            foreach (RawValue item in ConfigValues.StringItems(sinksValue, "a device id", errors))
            {
                if (DeviceReference(item, item.Path, allIds, errors) is string sink)
                {
                    sinks.Add(sink);
                }
            }
        }

        if (source is null)
        {
            return null;
        }

        // A device skipped because its optional plugin is missing cannot be shown or show anything.
        bool IsCreated(string id) => created.Any(d => d.Id == id);
        if (!IsCreated(source))
        {
            warnings.Add($"{display.PathOf("source")}: display source '{source}' was skipped; the VM has no display");
            return null;
        }

        return new DisplaySpec(source, sinks.Where(IsCreated).ToList());
    }

    private static string? DeviceReference(RawValue value, string path, IReadOnlyCollection<string> allIds, ICollection<ConfigError> errors)
    {
        if (ConfigValues.String(value, "a device id", errors) is not string id)
        {
            return null;
        }

        if (!allIds.Contains(id))
        {
            string known = allIds.Count == 0 ? "none" : string.Join(", ", allIds);
            errors.Add(new ConfigError(path, $"expected the id of a configured device (configured: {known}), got \"{id}\""));
            return null;
        }

        return id;
    }

    private static ControlSpec? Control(RawObject? control, string baseDirectory, ICollection<ConfigError> errors)
    {
        if (control is null)
        {
            return null;
        }

        string? socket = ConfigValues.RequiredString(control, "socket", "a Unix socket path", errors);
        if (socket is null)
        {
            return null;
        }

        string full = Path.GetFullPath(socket, baseDirectory);
        int length = Encoding.UTF8.GetByteCount(full);
        if (length > MaxSocketPathBytes)
        {
            errors.Add(new ConfigError(control.PathOf("socket"), $"expected a socket path of at most {MaxSocketPathBytes} bytes, got {length} bytes ('{full}')"));
            return null;
        }

        return new ControlSpec(full);
    }
}
