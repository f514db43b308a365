using Vmm.Contracts.Input;
using Vmm.Core.Input;

namespace Vmm.Core.Config;

/// <summary>Checks the config's <c>input.evdev</c> entries: an existing path, a known kind, a configured device id.</summary>
internal static class HostEvdevValidator
{
    public static List<HostEvdevSpec> Validate(IReadOnlyList<RawObject> sources, string baseDirectory, IReadOnlyCollection<string> deviceIds, ICollection<ConfigError> errors)
    {
        List<HostEvdevSpec> specs = [];
        foreach (RawObject source in sources)
        {
            if (source["path"] is null)
            {
                ConfigValues.Missing(source.PathOf("path"), "the path of a host evdev device such as \"/dev/input/event3\"", errors);
            }

            string? path = ConfigValues.ExistingFile(source["path"], baseDirectory, errors);
            string? kindText = ConfigValues.RequiredString(source, "kind", "one of \"keyboard\", \"mouse\", \"tablet\", \"gamepad\"", errors);
            InputDeviceKind kind = default;
            if (kindText is not null && !InputDeviceKindNames.TryParse(kindText, out kind))
            {
                ConfigValues.Wrong(source["kind"]!.Value, "one of \"keyboard\", \"mouse\", \"tablet\", \"gamepad\"", errors);
                kindText = null;
            }

            string? deviceId = null;
            if (source["device"] is RawValue device && ConfigValues.String(device, "the id of a configured input device", errors) is string id)
            {
                if (deviceIds.Contains(id))
                {
                    deviceId = id;
                }
                else
                {
                    errors.Add(new ConfigError(device.Path, $"expected the id of a configured device, got '{id}'"));
                }
            }

            if (path is not null && kindText is not null)
            {
                specs.Add(new HostEvdevSpec(path, kind, deviceId));
            }
        }

        return specs;
    }
}
