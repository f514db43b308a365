using System.Text.Json;

namespace Vmm.Core.Config;

/// <summary>
/// Refuses a config with a NUL character (U+0000) in any string or member name, before anything reads it: no
/// config value has a use for one, and a NUL in a path would reach .NET's path APIs as an exception instead of a
/// line with its JSON path.
/// </summary>
internal static class NulCharacterScan
{
    /// <summary>Reports each string or member name under <paramref name="element"/> with a NUL; true when none has one.</summary>
    public static bool Check(JsonElement element, string path, ICollection<ConfigError> errors)
    {
        bool clean = true;
        switch (element.ValueKind)
        {
            case JsonValueKind.String when element.GetString()!.Contains('\0', StringComparison.Ordinal):
                errors.Add(new ConfigError(path, "expected a string without NUL characters, got one with \\u0000"));
                return false;
            case JsonValueKind.Object:
                foreach (JsonProperty member in element.EnumerateObject())
                {
                    if (member.Name.Contains('\0', StringComparison.Ordinal))
                    {
                        errors.Add(new ConfigError(path, $"expected member names without NUL characters, got '{member.Name.Replace("\0", "\\u0000", StringComparison.Ordinal)}'"));
                        clean = false;
                        continue;
                    }

                    clean &= Check(member.Value, JsonPath.Member(path, member.Name), errors);
                }

                return clean;
            case JsonValueKind.Array:
                int index = 0;
                foreach (JsonElement item in element.EnumerateArray())
                {
                    clean &= Check(item, JsonPath.Item(path, index++), errors);
                }

                return clean;
            default:
                return true;
        }
    }
}
