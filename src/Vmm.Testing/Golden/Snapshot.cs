using System.Runtime.CompilerServices;
using System.Text;

namespace Vmm.Testing.Golden;

/// <summary>
/// Golden-file checks that follow Verify's conventions, so swapping Verify in later is a find-and-replace:
/// <c>&lt;SourceFileDir&gt;/&lt;TypeName&gt;.&lt;MethodName&gt;.verified.txt</c> next to the test, text stored as
/// UTF-8 with a BOM, LF line endings and no trailing newline. On a mismatch (or when there is no verified file yet)
/// the new output goes to <c>.received.txt</c> (git-ignored) and <see cref="SnapshotMismatchException"/> says which
/// files to compare. Setting <c>UPDATE_SNAPSHOTS=1</c> accepts: the verified file is written instead.
/// </summary>
public static class Snapshot
{
    /// <summary>The environment variable that accepts new output (<c>1</c> or <c>true</c>).</summary>
    public const string UpdateVariable = "UPDATE_SNAPSHOTS";

    private static readonly UTF8Encoding s_utf8WithBom = new(encoderShouldEmitUTF8Identifier: true);

    /// <summary>Whether <see cref="UpdateVariable"/> is set: mismatches are accepted instead of failing.</summary>
    public static bool IsUpdating
        => Environment.GetEnvironmentVariable(UpdateVariable) is { } value
            && (value == "1" || value.Equals("true", StringComparison.OrdinalIgnoreCase));

    /// <summary>Checks <paramref name="text"/>, scrubbed and normalized, against <c>&lt;Type&gt;.&lt;Method&gt;.verified.txt</c>.</summary>
    /// <exception cref="SnapshotMismatchException">The text differs from the verified file, or there is none, and updating is off.</exception>
    public static void Verify(
        string text,
        SnapshotSettings? settings = null,
        [CallerFilePath] string sourceFile = "",
        [CallerMemberName] string methodName = "")
    {
        ArgumentNullException.ThrowIfNull(text);
        settings ??= new SnapshotSettings();
        string normalized = Normalize(settings.Scrub(text));
        (string verified, string received) = PathsFor(settings, sourceFile, methodName, "txt");
        string? existing = File.Exists(verified) ? Normalize(File.ReadAllText(verified, Encoding.UTF8)) : null;
        if (existing == normalized)
        {
            File.Delete(received);
            return;
        }

        byte[] bytes = [.. s_utf8WithBom.GetPreamble(), .. s_utf8WithBom.GetBytes(normalized)];
        Settle(verified, received, bytes, existing is null ? null : FirstDifference(existing, normalized));
    }

    /// <summary>Checks bytes, unchanged, against <c>&lt;Type&gt;.&lt;Method&gt;.verified.&lt;ext&gt;</c> (<see cref="SnapshotSettings.BinaryExtension"/>).</summary>
    /// <exception cref="SnapshotMismatchException">The bytes differ from the verified file, or there is none, and updating is off.</exception>
    public static void VerifyBinary(
        ReadOnlySpan<byte> data,
        SnapshotSettings? settings = null,
        [CallerFilePath] string sourceFile = "",
        [CallerMemberName] string methodName = "")
    {
        settings ??= new SnapshotSettings();
        (string verified, string received) = PathsFor(settings, sourceFile, methodName, settings.BinaryExtension);
        byte[]? existing = File.Exists(verified) ? File.ReadAllBytes(verified) : null;
        if (existing is not null && data.SequenceEqual(existing))
        {
            File.Delete(received);
            return;
        }

        string? difference = null;
        if (existing is not null)
        {
            int at = data.CommonPrefixLength(existing);
            difference = $"The files differ from byte {at} (verified: {existing.Length} bytes, received: {data.Length} bytes).";
        }

        Settle(verified, received, data.ToArray(), difference);
    }

    /// <summary>What a text snapshot stores: LF line endings and no trailing newline.</summary>
    public static string Normalize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.Replace("\r\n", "\n", StringComparison.Ordinal).Replace('\r', '\n').TrimEnd('\n');
    }

    private static void Settle(string verified, string received, byte[] bytes, string? difference)
    {
        if (IsUpdating)
        {
            File.WriteAllBytes(verified, bytes);
            File.Delete(received);
            return;
        }

        File.WriteAllBytes(received, bytes);
        string what = difference is null
            ? $"There is no verified snapshot yet: {verified}"
            : $"The snapshot differs from {verified}. {difference}";
        throw new SnapshotMismatchException(
            $"""
            {what}
            Compare the files:
              received: {received}
              verified: {verified}
            To accept the received output, move it over the verified file, or run the tests again with {UpdateVariable}=1.
            """,
            received,
            verified);
    }

    private static (string Verified, string Received) PathsFor(SnapshotSettings settings, string sourceFile, string methodName, string extension)
    {
        string directory = settings.Directory ?? Path.GetDirectoryName(sourceFile)
            ?? throw new ArgumentException("The caller's source file is unknown: set SnapshotSettings.Directory.", nameof(sourceFile));
        string typeName = settings.TypeName ?? Path.GetFileNameWithoutExtension(sourceFile);
        string method = settings.MethodName ?? methodName;
        string stem = settings.Parameters is { Length: > 0 } parameters ? $"{typeName}.{method}_{parameters}" : $"{typeName}.{method}";
        return (Path.Combine(directory, $"{stem}.verified.{extension}"), Path.Combine(directory, $"{stem}.received.{extension}"));
    }

    private static string FirstDifference(string verified, string received)
    {
        string[] a = verified.Split('\n');
        string[] b = received.Split('\n');
        int line = 0;
        while (line < a.Length && line < b.Length && a[line] == b[line])
        {
            line++;
        }

        string Line(string[] lines) => line < lines.Length ? lines[line] : "<end of file>";
        return $"First difference at line {line + 1}:\n  verified: {Line(a)}\n  received: {Line(b)}";
    }
}
