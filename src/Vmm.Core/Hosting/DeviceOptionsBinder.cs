using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using Vmm.Contracts.Devices;
using Vmm.Core.Config;

namespace Vmm.Core.Hosting;

/// <summary>
/// Builds a device's options object from <c>key=value</c> pairs (a command line's <c>--option</c>s) through the
/// same System.Text.Json path the VM config uses, then lets the factory validate it. Errors read like the config's,
/// with <c>--option NAME</c> where the config has a JSON path: <c>--option maxBytesPerPeriod: expected an integer, got string "x"</c>.
/// </summary>
public static class DeviceOptionsBinder
{
    private const string OptionPrefix = "--option ";

    /// <summary>
    /// Binds <paramref name="pairs"/> (in order; a key given twice is an error) to <paramref name="factory"/>'s options
    /// type. A value is a string for string, enum and time-span options, else read as JSON when it parses
    /// (<c>4096</c>, <c>true</c>, <c>[1,2]</c>) and as a string when it does not.
    /// </summary>
    /// <returns>The validated options, or null with every problem in <paramref name="errors"/>.</returns>
    public static object? Bind(IDeviceFactory factory, IEnumerable<KeyValuePair<string, string>> pairs, string baseDirectory, out IReadOnlyList<string> errors)
    {
        ArgumentNullException.ThrowIfNull(factory);
        ArgumentNullException.ThrowIfNull(pairs);
        ArgumentNullException.ThrowIfNull(baseDirectory);
        var problems = new List<string>();
        errors = problems;
        JsonTypeInfo typeInfo = DeviceOptionsSerializer.For(factory.OptionsType).GetTypeInfo(factory.OptionsType);
        JsonObject json = [];
        foreach ((string key, string value) in pairs)
        {
            if (json.ContainsKey(key))
            {
                problems.Add($"{OptionPrefix}{key}: given more than once");
                continue;
            }

            json[key] = ToJson(value, typeInfo.Properties.FirstOrDefault(p => string.Equals(p.Name, key, StringComparison.Ordinal))?.PropertyType);
        }

        if (problems.Count > 0)
        {
            return null;
        }

        using JsonDocument document = JsonDocument.Parse(json.ToJsonString());
        List<ConfigError> configErrors = [];
        object? options = DeviceOptionsReader.Read(new RawValue("", document.RootElement), "", factory.OptionsType, configErrors);
        problems.AddRange(configErrors.Select(e => OptionPrefix + Member(e.Path) + ": " + e.Message));
        if (options is null || problems.Count > 0)
        {
            return null;
        }

        var context = new DeviceOptionsValidationContext("", baseDirectory);
        try
        {
            factory.Validate(options, context);
        }
#pragma warning disable CA1031 // a plugin's bug becomes an error line naming the device type, not a crash
        catch (Exception ex)
#pragma warning restore CA1031
        {
            problems.Add($"--option: the '{factory.DeviceType}' factory threw while checking the options: {ex.GetType().Name}: {ex.Message}");
            return null;
        }

        problems.AddRange(context.Errors.Select(e => OptionPrefix + Member(e.Path) + ": " + e.Message));
        return problems.Count == 0 ? options : null;
    }

    private static JsonNode? ToJson(string value, Type? propertyType)
    {
        Type? type = propertyType is null ? null : Nullable.GetUnderlyingType(propertyType) ?? propertyType;
        if (type is not null && (type == typeof(string) || type == typeof(char) || type.IsEnum || type == typeof(TimeSpan)))
        {
            return JsonValue.Create(value);
        }

        try
        {
            return JsonNode.Parse(value);
        }
        catch (JsonException)
        {
            return JsonValue.Create(value);
        }
    }

    // ".maxBytesPerPeriod" -> "maxBytesPerPeriod"; "['odd name']" stays as it is.
    private static string Member(string path) => path.StartsWith('.') ? path[1..] : path.Length == 0 ? "(options)" : path;
}
