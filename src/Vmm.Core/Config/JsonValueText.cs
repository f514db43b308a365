using System.Text.Json;

namespace Vmm.Core.Config;

/// <summary>Describes a JSON value for the "got ..." half of an error message.</summary>
internal static class JsonValueText
{
    private const int MaxLength = 60;

    /// <summary>For example <c>string "two"</c>, <c>number 3.5</c>, <c>true</c>, <c>null</c>, <c>an object</c>.</summary>
    public static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => "string " + Quote(value.GetString()!),
        JsonValueKind.Number => "number " + Shorten(value.GetRawText()),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.Null => "null",
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        _ => "nothing",
    };

    /// <summary>The value as written for a value of the right kind but a wrong content: <c>"513M"</c>, <c>1000</c>.</summary>
    public static string Literal(JsonElement value) =>
        value.ValueKind == JsonValueKind.String ? Quote(value.GetString()!) : Shorten(value.GetRawText());

    /// <summary>A string in double quotes, shortened when long.</summary>
    public static string Quote(string text) => "\"" + Shorten(text) + "\"";

    private static string Shorten(string text) => text.Length <= MaxLength ? text : string.Concat(text.AsSpan(0, MaxLength), "...");
}
