using System.Text.Json;

namespace Vmm.Core.Control;

/// <summary>A reply as the <see cref="ControlClient"/> reads it.</summary>
/// <param name="Ok">Whether the command succeeded.</param>
/// <param name="Result">The <c>result</c> when <paramref name="Ok"/>; undefined otherwise.</param>
/// <param name="ErrorCode">The <c>error.code</c> when not <paramref name="Ok"/>.</param>
/// <param name="ErrorMessage">The <c>error.message</c> when not <paramref name="Ok"/>.</param>
/// <param name="Json">The reply line as received, without the newline.</param>
public sealed record ControlResponse(bool Ok, JsonElement Result, string? ErrorCode, string? ErrorMessage, string Json)
{
    /// <summary>Parses a reply line; throws <see cref="JsonException"/> when it is not a reply.</summary>
    public static ControlResponse Parse(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        using JsonDocument document = JsonDocument.Parse(line);
        JsonElement root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("ok", out JsonElement ok) || ok.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
        {
            throw new JsonException("The reply has no \"ok\" member.");
        }

        if (ok.GetBoolean())
        {
            JsonElement result = root.TryGetProperty("result", out JsonElement r) ? r.Clone() : default;
            return new ControlResponse(true, result, null, null, line);
        }

        string? code = null;
        string? message = null;
        if (root.TryGetProperty("error", out JsonElement error) && error.ValueKind == JsonValueKind.Object)
        {
            code = error.TryGetProperty("code", out JsonElement c) ? c.GetString() : null;
            message = error.TryGetProperty("message", out JsonElement m) ? m.GetString() : null;
        }

        return new ControlResponse(false, default, code, message, line);
    }
}
