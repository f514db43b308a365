using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;

namespace Vmm.Core.Config;

/// <summary>
/// Reads a device's <c>options</c> object into its factory's options type and turns what System.Text.Json rejects
/// into config errors with the full path (<c>$.devices[0].options.maxBytesPerPeriod: expected ..., got ...</c>).
/// </summary>
internal static class DeviceOptionsReader
{
    /// <summary>Reads <paramref name="options"/> (null when absent: every default) into <paramref name="optionsType"/>.</summary>
    public static object? Read(RawValue? options, string optionsPath, Type optionsType, ICollection<ConfigError> errors)
    {
        if (options is not RawValue value)
        {
            return Activator.CreateInstance(optionsType);
        }

        if (value.Kind != JsonValueKind.Object)
        {
            ConfigValues.Wrong(value, "an object of device options", errors);
            return null;
        }

        JsonTypeInfo typeInfo = DeviceOptionsSerializer.For(optionsType).GetTypeInfo(optionsType);
        List<string> unknown = ReportUnknownMembers(value, typeInfo, errors);
        try
        {
            object? result;
            if (unknown.Count == 0)
            {
                result = value.Element.Deserialize(typeInfo);
            }
            else
            {
                // Still read the known members, so their mistakes are reported too.
                JsonObject known = JsonObject.Create(value.Element)!;
                unknown.ForEach(name => known.Remove(name));
                result = known.Deserialize(typeInfo);
            }

            return unknown.Count == 0 ? result ?? Activator.CreateInstance(optionsType) : null;
        }
        catch (JsonException ex)
        {
            errors.Add(Translate(ex, value, typeInfo));
            return null;
        }
    }

    // System.Text.Json stops at the first unknown member; list them all.
    private static List<string> ReportUnknownMembers(RawValue value, JsonTypeInfo typeInfo, ICollection<ConfigError> errors)
    {
        List<string> unknown = [];
        foreach (JsonProperty property in value.Element.EnumerateObject())
        {
            if (FindProperty(typeInfo, property.Name) is null)
            {
                errors.Add(UnknownMember(JsonPath.Member(value.Path, property.Name), property.Name, typeInfo));
                unknown.Add(property.Name);
            }
        }

        return unknown;
    }

    private static ConfigError Translate(JsonException ex, RawValue options, JsonTypeInfo typeInfo)
    {
        string relative = ex.Path is { Length: > 1 } path && path[0] == '$' ? path[1..] : string.Empty;
        string configPath = options.Path + relative;
        JsonElement element = options.Element;
        JsonTypeInfo? owner = typeInfo;
        Type? type = typeInfo.Type;
        foreach (object segment in Segments(relative))
        {
            if (segment is string name)
            {
                if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(name, out JsonElement child))
                {
                    break;
                }

                JsonPropertyInfo? property = owner is null ? null : FindProperty(owner, name);
                if (property is null)
                {
                    return owner is null
                        ? new ConfigError(configPath, $"expected a valid value, got {JsonValueText.Describe(child)}")
                        : UnknownMember(configPath, name, owner);
                }

                element = child;
                type = property.PropertyType;
            }
            else
            {
                int index = (int)segment;
                if (element.ValueKind != JsonValueKind.Array || index >= element.GetArrayLength())
                {
                    break;
                }

                element = element[index];
                type = ElementType(type);
            }

            owner = type is null ? null : DeviceOptionsSerializer.For(type).GetTypeInfo(type);
            owner = owner?.Kind == JsonTypeInfoKind.Object ? owner : null;
        }

        return new ConfigError(configPath, $"expected {OptionTypeText.Expected(type)}, got {JsonValueText.Describe(element)}");
    }

    private static ConfigError UnknownMember(string path, string name, JsonTypeInfo owner)
    {
        string known = owner.Properties.Count == 0 ? "(none)" : string.Join(", ", owner.Properties.Select(p => p.Name));
        return new ConfigError(path, $"expected one of the options {known}, got unknown member '{name}'");
    }

    private static JsonPropertyInfo? FindProperty(JsonTypeInfo owner, string name) =>
        owner.Properties.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.Ordinal));

    private static Type? ElementType(Type? type)
    {
        if (type is null)
        {
            return null;
        }

        if (type.IsArray)
        {
            return type.GetElementType();
        }

        Type? enumerable = type.GetInterfaces().Append(type)
            .FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>));
        return enumerable?.GetGenericArguments()[0];
    }

    // Splits ".a.b[2]['c d']" into "a", "b", 2, "c d".
    private static IEnumerable<object> Segments(string path)
    {
        int i = 0;
        while (i < path.Length)
        {
            if (path[i] == '.')
            {
                int end = i + 1;
                while (end < path.Length && path[end] != '.' && path[end] != '[')
                {
                    end++;
                }

                yield return path[(i + 1)..end];
                i = end;
            }
            else if (path[i] == '[' && i + 1 < path.Length && path[i + 1] == '\'')
            {
                int end = path.IndexOf("']", i + 2, StringComparison.Ordinal);
                if (end < 0)
                {
                    yield break;
                }

                yield return path[(i + 2)..end];
                i = end + 2;
            }
            else if (path[i] == '[')
            {
                int end = path.IndexOf(']', i);
                if (end < 0 || !int.TryParse(path.AsSpan(i + 1, end - i - 1), out int index))
                {
                    yield break;
                }

                yield return index;
                i = end + 1;
            }
            else
            {
                yield break;
            }
        }
    }
}
