using System.Text.Json;

namespace Vmm.Core.Config;

/// <summary>
/// Reads VM config JSON (comments and trailing commas allowed) into a <see cref="RawVmConfig"/>: checks that the
/// sections have the right shape and that every member name is known, and records each value with its path.
/// Values are typed and checked by <see cref="VmConfigValidator"/>.
/// </summary>
internal static class VmConfigReader
{
    private static readonly string[] s_rootMembers = ["machine", "platform", "plugins", "devices", "display", "control", "input"];
    private static readonly string[] s_machineMembers = ["memory", "vcpus", "kernel", "initrd", "cmdline"];
    private static readonly string[] s_pluginsMembers = ["paths", "builtIn", "optional"];
    private static readonly string[] s_deviceMembers = ["id", "plugin", "type", "options", "limits"];
    private static readonly string[] s_displayMembers = ["source", "sinks"];
    private static readonly string[] s_controlMembers = ["socket"];
    private static readonly string[] s_inputMembers = ["evdev"];
    private static readonly string[] s_evdevMembers = ["path", "kind", "device"];

    private static readonly JsonDocumentOptions s_documentOptions = new()
    {
        CommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        MaxDepth = 64,
    };

    /// <summary>Reads <paramref name="json"/>; returns null when it is not JSON or not an object.</summary>
    public static RawVmConfig? Read(string json, string baseDirectory, ICollection<ConfigError> errors)
    {
        if (JsonSyntax.Check(json) is string notJson)
        {
            errors.Add(new ConfigError(JsonPath.Root, notJson));
            return null;
        }

        JsonElement root;
        try
        {
            using JsonDocument document = JsonDocument.Parse(json, s_documentOptions);
            root = document.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            errors.Add(new ConfigError(JsonPath.Root, JsonSyntax.Describe(ex)));
            return null;
        }

        if (root.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new ConfigError(JsonPath.Root, $"expected an object, got {JsonValueText.Describe(root)}"));
            return null;
        }

        if (!NulCharacterScan.Check(root, JsonPath.Root, errors))
        {
            return null;
        }

        RawObject top = ReadObject(new RawValue(JsonPath.Root, root), s_rootMembers, errors)!;
        return new RawVmConfig(
            baseDirectory,
            Section(top, "machine", s_machineMembers, errors),
            top["platform"],
            Section(top, "plugins", s_pluginsMembers, errors),
            Devices(top, errors),
            Section(top, "display", s_displayMembers, errors),
            Section(top, "control", s_controlMembers, errors),
            EvdevSources(Section(top, "input", s_inputMembers, errors), errors));
    }

    private static RawObject? Section(RawObject parent, string name, string[] members, ICollection<ConfigError> errors) =>
        parent[name] is RawValue value ? ReadObject(value, members, errors) : null;

    private static List<RawObject> Devices(RawObject top, ICollection<ConfigError> errors) =>
        ObjectArray(top["devices"], "devices", s_deviceMembers, errors);

    private static List<RawObject> EvdevSources(RawObject? input, ICollection<ConfigError> errors) =>
        ObjectArray(input?["evdev"], "host evdev sources", s_evdevMembers, errors);

    private static List<RawObject> ObjectArray(RawValue? array, string what, string[] members, ICollection<ConfigError> errors)
    {
        List<RawObject> items = [];
        if (array is not RawValue value)
        {
            return items;
        }

        if (value.Kind != JsonValueKind.Array)
        {
            errors.Add(new ConfigError(value.Path, $"expected an array of {what}, got {JsonValueText.Describe(value.Element)}"));
            return items;
        }

        int index = 0;
        foreach (JsonElement element in value.Element.EnumerateArray())
        {
            if (ReadObject(new RawValue(JsonPath.Item(value.Path, index), element), members, errors) is RawObject item)
            {
                items.Add(item);
            }

            index++;
        }

        return items;
    }

    internal static RawObject? ReadObject(RawValue value, string[] known, ICollection<ConfigError> errors)
    {
        if (value.Kind != JsonValueKind.Object)
        {
            errors.Add(new ConfigError(value.Path, $"expected an object, got {JsonValueText.Describe(value.Element)}"));
            return null;
        }

        Dictionary<string, RawValue> members = new(StringComparer.Ordinal);
        foreach (JsonProperty property in value.Element.EnumerateObject())
        {
            string path = JsonPath.Member(value.Path, property.Name);
            if (Array.IndexOf(known, property.Name) < 0)
            {
                errors.Add(new ConfigError(path, $"expected one of the members {string.Join(", ", known)}, got unknown member '{property.Name}'"));
            }
            else if (!members.TryAdd(property.Name, new RawValue(path, property.Value)))
            {
                errors.Add(new ConfigError(path, $"expected each member once, got '{property.Name}' again"));
            }
        }

        return new RawObject(value.Path, members);
    }
}
