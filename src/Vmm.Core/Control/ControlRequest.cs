using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Json;

namespace Vmm.Core.Control;

/// <summary>A parsed request line: <c>{"v":1,"id":7,"command":"status","args":{}}</c>.</summary>
/// <param name="Id">The request's <c>id</c> (any JSON value), echoed in the reply; undefined when absent.</param>
/// <param name="Command">The command name.</param>
/// <param name="Args">The <c>args</c> object; an empty object when absent.</param>
internal readonly record struct ControlRequest(JsonElement Id, string Command, JsonElement Args)
{
    private static readonly JsonElement s_emptyArgs = JsonDocument.Parse("{}").RootElement.Clone();

    /// <summary>
    /// Parses one line. On failure returns false with the error code and message, and the id when it could be read.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> line, out ControlRequest request, out ControlReplyError? error)
    {
        request = default;
        int invalidAt = FirstInvalidUtf8Byte(line);
        if (invalidAt >= 0)
        {
            // Checked first: JsonElement hands out strings by transcoding, which throws on bytes that are not UTF-8.
            error = new ControlReplyError(default, ControlErrorCodes.MalformedRequest, $"expected a JSON object in UTF-8, got a byte that is not UTF-8 at byte {invalidAt + 1}");
            return false;
        }

        JsonElement root;
        try
        {
            Utf8JsonReader reader = new(line, new JsonReaderOptions { MaxDepth = 64 });
            root = JsonElement.ParseValue(ref reader);
            if (reader.Read())
            {
                error = new ControlReplyError(default, ControlErrorCodes.MalformedRequest, "expected one JSON object per line, got more after it");
                return false;
            }
        }
        catch (JsonException ex)
        {
            error = new ControlReplyError(default, ControlErrorCodes.MalformedRequest, $"expected a JSON object, got invalid JSON at byte {(ex.BytePositionInLine ?? 0) + 1}");
            return false;
        }

        if (root.ValueKind != JsonValueKind.Object)
        {
            error = new ControlReplyError(default, ControlErrorCodes.MalformedRequest, $"expected a JSON object, got {root.ValueKind.ToString().ToLowerInvariant()}");
            return false;
        }

        JsonElement id = root.TryGetProperty("id", out JsonElement idValue) ? idValue : default;
        if (!root.TryGetProperty("v", out JsonElement version) || version.ValueKind != JsonValueKind.Number
            || !version.TryGetInt32(out int v) || v != ControlProtocol.Version)
        {
            string got = root.TryGetProperty("v", out JsonElement raw) ? raw.GetRawText() : "nothing";
            error = new ControlReplyError(id, ControlErrorCodes.UnsupportedVersion, $"expected \"v\":{ControlProtocol.Version}, got {got}");
            return false;
        }

        if (!root.TryGetProperty("command", out JsonElement command) || command.ValueKind != JsonValueKind.String
            || !TryGetString(command, out string? commandName) || commandName.Length == 0)
        {
            error = new ControlReplyError(id, ControlErrorCodes.MalformedRequest, "expected a \"command\" string");
            return false;
        }

        JsonElement args = s_emptyArgs;
        if (root.TryGetProperty("args", out JsonElement argsValue) && argsValue.ValueKind != JsonValueKind.Null)
        {
            if (argsValue.ValueKind != JsonValueKind.Object)
            {
                error = new ControlReplyError(id, ControlErrorCodes.MalformedRequest, "expected \"args\" to be an object");
                return false;
            }

            args = argsValue;
        }

        request = new ControlRequest(id, commandName, args);
        error = null;
        return true;
    }

    /// <summary>
    /// A JSON string's value; false for an escaped lone surrogate (<c>"\ud800"</c>), which is valid JSON but not a
    /// string .NET can hand out (<see cref="JsonElement.GetString"/> throws).
    /// </summary>
    public static bool TryGetString(JsonElement element, [NotNullWhen(true)] out string? value)
    {
        try
        {
            value = element.GetString();
            return value is not null;
        }
        catch (InvalidOperationException)
        {
            value = null;
            return false;
        }
    }

    private static int FirstInvalidUtf8Byte(ReadOnlySpan<byte> line)
    {
        int index = 0;
        while (index < line.Length)
        {
            if (Rune.DecodeFromUtf8(line[index..], out _, out int consumed) != OperationStatus.Done)
            {
                return index;
            }

            index += consumed;
        }

        return -1;
    }
}
