using System.Text;
using System.Text.Json;

namespace Vmm.Core.Config;

/// <summary>Reads typed values out of <see cref="RawValue"/>s, reporting a wrong kind as a <see cref="ConfigError"/>.</summary>
internal static class ConfigValues
{
    /// <summary>Reports that a required member is missing.</summary>
    public static void Missing(string path, string expected, ICollection<ConfigError> errors) =>
        errors.Add(new ConfigError(path, $"expected {expected}, got nothing"));

    /// <summary>Reports a value that is not what was <paramref name="expected"/>.</summary>
    public static void Wrong(RawValue value, string expected, ICollection<ConfigError> errors) =>
        errors.Add(new ConfigError(value.Path, $"expected {expected}, got {JsonValueText.Describe(value.Element)}"));

    /// <summary>A string value; null (and an error) when the value is another kind.</summary>
    public static string? String(RawValue value, string expected, ICollection<ConfigError> errors)
    {
        if (value.Kind != JsonValueKind.String)
        {
            Wrong(value, expected, errors);
            return null;
        }

        return value.Element.GetString();
    }

    /// <summary>A non-empty string member that must be present.</summary>
    public static string? RequiredString(RawObject owner, string name, string expected, ICollection<ConfigError> errors)
    {
        if (owner[name] is not RawValue value)
        {
            Missing(owner.PathOf(name), expected, errors);
            return null;
        }

        string? text = String(value, expected, errors);
        if (text is { Length: 0 })
        {
            errors.Add(new ConfigError(value.Path, $"expected {expected}, got an empty string"));
            return null;
        }

        return text;
    }

    /// <summary>An integer from <paramref name="min"/> to <paramref name="max"/>.</summary>
    public static int? Integer(RawValue value, int min, int max, ICollection<ConfigError> errors)
    {
        if (value.Kind == JsonValueKind.Number && value.Element.TryGetInt32(out int number) && number >= min && number <= max)
        {
            return number;
        }

        Wrong(value, $"an integer from {min} to {max}", errors);
        return null;
    }

    /// <summary>The non-empty string items of an array, in order; other items are reported (as they are reached) and left out.</summary>
    public static IEnumerable<RawValue> StringItems(RawValue value, string expected, ICollection<ConfigError> errors)
    {
        if (value.Kind != JsonValueKind.Array)
        {
            Wrong(value, "an array of strings", errors);
            yield break;
        }

        int index = 0;
        foreach (JsonElement element in value.Element.EnumerateArray())
        {
            RawValue item = new(JsonPath.Item(value.Path, index++), element);
            if (element.ValueKind == JsonValueKind.String && element.GetString()!.Length > 0)
            {
                yield return item;
            }
            else
            {
                Wrong(item, expected, errors);
            }
        }
    }

    /// <summary>A path to a file that must exist, resolved against <paramref name="baseDirectory"/>; null when absent.</summary>
    public static string? ExistingFile(RawValue? value, string baseDirectory, ICollection<ConfigError> errors)
    {
        if (value is not RawValue present || String(present, "a file path", errors) is not string text)
        {
            return null;
        }

        if (HostPath(present, text, baseDirectory, errors) is not string full)
        {
            return null;
        }

        if (Directory.Exists(full))
        {
            errors.Add(new ConfigError(present.Path, $"expected a file, got the folder '{full}'"));
            return null;
        }

        if (!File.Exists(full))
        {
            errors.Add(new ConfigError(present.Path, $"file '{full}' does not exist"));
            return null;
        }

        return full;
    }

    /// <summary>Linux's PATH_MAX less its terminating NUL, and NAME_MAX: longer paths fail every file call.</summary>
    private const int MaxPathBytes = 4095, MaxNameBytes = 255;

    /// <summary>
    /// <paramref name="text"/> resolved against <paramref name="baseDirectory"/>; null (and an error) when Linux
    /// could not use it: longer than PATH_MAX, or a component longer than NAME_MAX.
    /// </summary>
    public static string? HostPath(RawValue value, string text, string baseDirectory, ICollection<ConfigError> errors)
    {
        string full = Path.GetFullPath(text, baseDirectory);
        int length = Encoding.UTF8.GetByteCount(full);
        if (length > MaxPathBytes)
        {
            errors.Add(new ConfigError(value.Path, $"expected a path of at most {MaxPathBytes} bytes, got {length} bytes"));
            return null;
        }

        foreach (string name in full.Split('/'))
        {
            if (Encoding.UTF8.GetByteCount(name) > MaxNameBytes)
            {
                errors.Add(new ConfigError(value.Path, $"expected path components of at most {MaxNameBytes} bytes, got one of {Encoding.UTF8.GetByteCount(name)} bytes"));
                return null;
            }
        }

        return full;
    }
}
