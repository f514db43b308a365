using System.Buffers;
using System.Text;
using System.Text.Unicode;

namespace Vmm.Core.Config;

/// <summary>
/// Reads a config file as UTF-8 text. What is not a readable UTF-8 file (a folder, a missing file, bytes that are
/// not UTF-8) is one <see cref="ConfigError"/> at <c>$</c> that says so, rather than an exception's wording
/// ("Access to the path is denied" for a folder) or bytes silently replaced by U+FFFD.
/// </summary>
internal static class ConfigFileText
{
    /// <summary>The text of <paramref name="fullPath"/>, or null and the error saying why there is none.</summary>
    public static string? Read(string fullPath, out ConfigError? error)
    {
        error = null;
        if (Directory.Exists(fullPath))
        {
            error = new ConfigError(JsonPath.Root, $"expected a config file, got the folder '{fullPath}'");
            return null;
        }

        if (!File.Exists(fullPath))
        {
            error = new ConfigError(JsonPath.Root, $"expected a readable config file, got '{fullPath}': no such file");
            return null;
        }

        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(fullPath);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            error = new ConfigError(JsonPath.Root, $"expected a readable config file, got '{fullPath}': {ex.Message}");
            return null;
        }

        ReadOnlySpan<byte> utf8 = bytes;
        if (utf8.StartsWith(Encoding.UTF8.Preamble))
        {
            utf8 = utf8[Encoding.UTF8.Preamble.Length..];
        }

        char[] chars = new char[utf8.Length];
        OperationStatus status = Utf8.ToUtf16(utf8, chars, out int read, out int written, replaceInvalidSequences: false);
        if (status != OperationStatus.Done)
        {
            (int line, int column) = Position(utf8[..read]);
            error = new ConfigError(JsonPath.Root, $"expected a UTF-8 text file, got '{fullPath}' with a byte that is not UTF-8 (0x{utf8[read]:X2}) at line {line}, column {column}");
            return null;
        }

        return new string(chars, 0, written);
    }

    // Line and column (1-based, the column in bytes as JSON syntax errors count it) just after `before`.
    private static (int Line, int Column) Position(ReadOnlySpan<byte> before)
    {
        int lastNewline = before.LastIndexOf((byte)'\n');
        return (before.Count((byte)'\n') + 1, before.Length - lastNewline);
    }
}
