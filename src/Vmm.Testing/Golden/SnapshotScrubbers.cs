using System.Globalization;
using System.Text.RegularExpressions;

namespace Vmm.Testing.Golden;

/// <summary>The built-in scrubbers: text that changes from run to run becomes a stable placeholder.</summary>
internal static partial class SnapshotScrubbers
{
    /// <summary>GUIDs become <c>{Guid_1}</c>, <c>{Guid_2}</c>, ... numbered by first appearance, so equal GUIDs stay equal.</summary>
    public static string Guids(string text) => Number(GuidPattern(), text, "Guid");

    /// <summary>ISO 8601 date-times become <c>{Timestamp_1}</c>, ... numbered by first appearance.</summary>
    public static string Timestamps(string text) => Number(TimestampPattern(), text, "Timestamp");

    /// <summary>Durations (<c>12 ms</c>, <c>1.5s</c>, <c>00:00:01.25</c>) become <c>{Duration}</c>.</summary>
    public static string Durations(string text)
        => DurationPattern().Replace(TimeSpanPattern().Replace(text, "{Duration}"), "{Duration}");

    /// <summary>File descriptor numbers (<c>fd 7</c>, <c>fd=7</c>, <c>fd:7</c>) become <c>fd {fd}</c>-style placeholders.</summary>
    public static string FileDescriptors(string text) => FileDescriptorPattern().Replace(text, "${prefix}{fd}");

    private static string Number(Regex pattern, string text, string name)
    {
        var seen = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        return pattern.Replace(text, match =>
        {
            if (!seen.TryGetValue(match.Value, out int number))
            {
                number = seen.Count + 1;
                seen.Add(match.Value, number);
            }

            return "{" + name + "_" + number.ToString(CultureInfo.InvariantCulture) + "}";
        });
    }

    [GeneratedRegex(@"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")]
    private static partial Regex GuidPattern();

    [GeneratedRegex(@"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?")]
    private static partial Regex TimestampPattern();

    [GeneratedRegex(@"\b\d+(\.\d+)?\s?(ns|us|µs|ms|s|min|h)\b")]
    private static partial Regex DurationPattern();

    [GeneratedRegex(@"\b(\d+\.)?\d{1,2}:\d{2}:\d{2}(\.\d+)?\b")]
    private static partial Regex TimeSpanPattern();

    [GeneratedRegex(@"(?<prefix>\bfd\s?[=:#]?\s?)\d+\b", RegexOptions.IgnoreCase)]
    private static partial Regex FileDescriptorPattern();
}
