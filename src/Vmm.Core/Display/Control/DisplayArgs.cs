using System.Text.Json;
using Vmm.Core.Control;

namespace Vmm.Core.Display.Control;

/// <summary>Reads the arguments the <c>display-*</c> control commands share.</summary>
internal static class DisplayArgs
{
    /// <summary>The error code when an id names no display source.</summary>
    public const string NoSuchSourceCode = "no-such-source";

    /// <summary>The error code when an id names no display sink.</summary>
    public const string NoSuchSinkCode = ScreenshotCommand.NoSuchSinkCode;

    /// <summary>A required non-empty string member of <paramref name="args"/>.</summary>
    public static string RequiredString(JsonElement args, string member, string expected)
    {
        if (!args.TryGetProperty(member, out JsonElement value) || value.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(value.GetString()))
        {
            throw Invalid(member, $"expected {expected}");
        }

        return value.GetString()!;
    }

    /// <summary>An optional string member; null when absent or null.</summary>
    public static string? OptionalString(JsonElement args, string member, string expected)
    {
        if (!args.TryGetProperty(member, out JsonElement value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.String && !string.IsNullOrEmpty(value.GetString())
            ? value.GetString()
            : throw Invalid(member, $"expected {expected}");
    }

    /// <summary>An optional boolean member; <paramref name="fallback"/> when absent.</summary>
    public static bool OptionalBool(JsonElement args, string member, bool fallback)
    {
        if (!args.TryGetProperty(member, out JsonElement value) || value.ValueKind == JsonValueKind.Null)
        {
            return fallback;
        }

        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Invalid(member, "expected true or false"),
        };
    }

    /// <summary>An <c>invalid-args</c> failure naming <c>args.member</c>.</summary>
    public static ControlCommandException Invalid(string member, string message) =>
        new(ControlErrorCodes.InvalidArguments, $"args.{member}: {message}");

    /// <summary>Lists ids for a message: <c>a, b</c>, or <c>none</c>.</summary>
    public static string List(IEnumerable<string> ids)
    {
        string text = string.Join(", ", ids);
        return text.Length == 0 ? "none" : text;
    }
}
