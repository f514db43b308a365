using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Vmm.Core.Control;

/// <summary>Formats reply lines: <c>{"v":1,"id":7,"ok":true,"result":{...}}</c> or <c>...,"ok":false,"error":{"code":...,"message":...}}</c>.</summary>
internal static class ControlReplyWriter
{
    // Replies are read by people at a terminal and by programs, never put into HTML: write "'" and non-ASCII as
    // they are rather than as \u0027 (quotes, backslashes and control characters are still escaped).
    private static readonly JsonWriterOptions s_options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>A successful reply, newline-terminated.</summary>
    public static byte[] Success(JsonElement id, JsonNode? result) => Write(id, true, writer =>
    {
        writer.WritePropertyName("result");
        if (result is null)
        {
            writer.WriteStartObject();
            writer.WriteEndObject();
        }
        else
        {
            result.WriteTo(writer);
        }
    });

    /// <summary>An error reply, newline-terminated.</summary>
    public static byte[] Failure(JsonElement id, string code, string message) => Write(id, false, writer =>
    {
        writer.WriteStartObject("error");
        writer.WriteString("code", code);
        writer.WriteString("message", message);
        writer.WriteEndObject();
    });

    private static byte[] Write(JsonElement id, bool ok, Action<Utf8JsonWriter> body)
    {
        ArrayBufferWriter<byte> buffer = new(256);
        using (Utf8JsonWriter writer = new(buffer, s_options))
        {
            writer.WriteStartObject();
            writer.WriteNumber("v", ControlProtocol.Version);
            writer.WritePropertyName("id");
            if (id.ValueKind == JsonValueKind.Undefined)
            {
                writer.WriteNullValue();
            }
            else
            {
                id.WriteTo(writer);
            }

            writer.WriteBoolean("ok", ok);
            body(writer);
            writer.WriteEndObject();
        }

        byte[] line = new byte[buffer.WrittenCount + 1];
        buffer.WrittenSpan.CopyTo(line);
        line[^1] = (byte)'\n';
        return line;
    }
}
