using System.Text.Json;

namespace Vmm.Core.Config;

/// <summary>
/// The message for config text that is not JSON: where it broke and why, in the words of System.Text.Json's reader
/// (without its zero-based position suffix), and the two cases whose reader message misleads said plainly: an empty
/// file, and a NUL character (a binary file, or one a tool cut short), which no JSON text may hold outside a string
/// escape.
/// </summary>
internal static class JsonSyntax
{
    /// <summary>The error for text that cannot be JSON before it is parsed; null when it may be.</summary>
    public static string? Check(string json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return "expected a JSON document, got an empty file";
        }

        int nul = json.IndexOf('\0', StringComparison.Ordinal);
        if (nul < 0)
        {
            return null;
        }

        int lastNewline = json.LastIndexOf('\n', nul == 0 ? 0 : nul - 1);
        int line = json.AsSpan(0, nul).Count('\n') + 1;
        return $"expected a JSON document, got a NUL character (\\u0000) at line {line}, column {nul - lastNewline}";
    }

    /// <summary>For example <c>expected a JSON document, got a syntax error at line 2, column 13: '{' is invalid after a property name. Expected a ':'.</c></summary>
    public static string Describe(JsonException ex)
    {
        long line = (ex.LineNumber ?? 0) + 1;
        long column = (ex.BytePositionInLine ?? 0) + 1;
        string reason = ex.Message;
        int position = reason.IndexOf(" LineNumber:", StringComparison.Ordinal);
        reason = (position >= 0 ? reason[..position] : reason).Trim();
        return reason.Length == 0
            ? $"expected a JSON document, got a syntax error at line {line}, column {column}"
            : $"expected a JSON document, got a syntax error at line {line}, column {column}: {reason}";
    }
}
