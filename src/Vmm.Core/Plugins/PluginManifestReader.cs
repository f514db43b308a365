using System.Globalization;
using System.Text.Json;

namespace Vmm.Core.Plugins;

/// <summary>Reads <c>vmm-plugin.json</c> files; every problem names the file and the JSON path of the field.</summary>
public static class PluginManifestReader
{
    private static readonly JsonDocumentOptions s_documentOptions = new()
    {
        AllowTrailingCommas = true,
        CommentHandling = JsonCommentHandling.Skip,
    };

    /// <summary>Reads the manifest at <paramref name="manifestPath"/>.</summary>
    /// <exception cref="PluginManifestException">The file is missing, is not JSON, or a field is missing or wrong.</exception>
    public static PluginManifest Read(string manifestPath)
    {
        ArgumentNullException.ThrowIfNull(manifestPath);
        string json;
        try
        {
            json = File.ReadAllText(manifestPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PluginManifestException(manifestPath, "$", $"cannot be read: {e.Message}", e);
        }

        return Parse(json, manifestPath);
    }

    /// <summary>Parses manifest text; <paramref name="manifestPath"/> only names the source in errors.</summary>
    /// <exception cref="PluginManifestException">The text is not JSON, or a field is missing or wrong.</exception>
    public static PluginManifest Parse(string json, string manifestPath)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(manifestPath);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, s_documentOptions);
        }
        catch (JsonException e)
        {
            string where = e.Path is { Length: > 0 } ? e.Path : "$";
            throw new PluginManifestException(manifestPath, where, $"is not valid JSON (line {e.LineNumber + 1}): {e.Message}", e);
        }

        using (document)
        {
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new PluginManifestException(manifestPath, "$", "must be a JSON object.");
            }

            string name = RequiredString(root, "name", manifestPath);
            string version = RequiredString(root, "version", manifestPath);
            Version contractVersion = ReadContractVersion(root, manifestPath);
            string assembly = RequiredString(root, "assembly", manifestPath);
            if (assembly.IndexOfAny(['/', '\\']) >= 0 || !assembly.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
            {
                throw new PluginManifestException(manifestPath, "$.assembly", $"must be a file name ending in .dll in the manifest's folder, not '{assembly}'.");
            }

            string entryPoint = RequiredString(root, "entryPoint", manifestPath);
            IReadOnlyList<string> deviceTypes = ReadDeviceTypes(root, manifestPath);
            string description = OptionalString(root, "description", manifestPath) ?? string.Empty;
            return new PluginManifest(name, version, contractVersion, assembly, entryPoint, deviceTypes, description);
        }
    }

    private static Version ReadContractVersion(JsonElement root, string manifestPath)
    {
        string text = RequiredString(root, "contractVersion", manifestPath);
        string[] parts = text.Split('.');
        if (parts.Length != 2
            || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int major)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int minor))
        {
            throw new PluginManifestException(manifestPath, "$.contractVersion", $"must be \"Major.Minor\" (for example \"1.0\"), not \"{text}\".");
        }

        return new Version(major, minor);
    }

    private static IReadOnlyList<string> ReadDeviceTypes(JsonElement root, string manifestPath)
    {
        if (!root.TryGetProperty("deviceTypes", out JsonElement array))
        {
            throw new PluginManifestException(manifestPath, "$.deviceTypes", "is missing; list the device types the plugin provides (it may be empty: []).");
        }

        if (array.ValueKind != JsonValueKind.Array)
        {
            throw new PluginManifestException(manifestPath, "$.deviceTypes", $"must be an array of strings, not {Describe(array.ValueKind)}.");
        }

        var deviceTypes = new List<string>(array.GetArrayLength());
        int index = 0;
        foreach (JsonElement item in array.EnumerateArray())
        {
            string path = $"$.deviceTypes[{index}]";
            if (item.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(item.GetString()))
            {
                throw new PluginManifestException(manifestPath, path, "must be a non-empty string.");
            }

            string deviceType = item.GetString()!;
            if (deviceTypes.Contains(deviceType, StringComparer.Ordinal))
            {
                throw new PluginManifestException(manifestPath, path, $"'{deviceType}' is listed twice.");
            }

            deviceTypes.Add(deviceType);
            index++;
        }

        return deviceTypes;
    }

    private static string RequiredString(JsonElement root, string name, string manifestPath)
    {
        string? value = OptionalString(root, name, manifestPath);
        return string.IsNullOrWhiteSpace(value)
            ? throw new PluginManifestException(manifestPath, "$." + name, value is null ? "is missing." : "must not be empty.")
            : value;
    }

    private static string? OptionalString(JsonElement root, string name, string manifestPath)
    {
        if (!root.TryGetProperty(name, out JsonElement element) || element.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return element.ValueKind == JsonValueKind.String
            ? element.GetString()
            : throw new PluginManifestException(manifestPath, "$." + name, $"must be a string, not {Describe(element.ValueKind)}.");
    }

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => kind.ToString(),
    };
}
