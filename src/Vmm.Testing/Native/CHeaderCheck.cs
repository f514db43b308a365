using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using Vmm.Core.Hosting;

namespace Vmm.Testing.Native;

/// <summary>
/// Checks values and struct layouts declared in C# against the C headers they mirror: generates a C file of
/// <c>_Static_assert</c>s, compiles it with gcc (<c>-fsyntax-only</c>), and lists every assertion (or unknown name)
/// that failed. For the host's interop and for plugins that declare a wire format or libc structs of their own.
/// </summary>
/// <example>
/// <code>
/// var check = new CHeaderCheck().Include("linux/fuse.h").Layout&lt;FuseInHeader&gt;("struct fuse_in_header", "len", "opcode", ...);
/// Assert.Empty(check.Run(CHeaderCheck.FindCompiler() ?? skip));
/// </code>
/// </example>
public sealed class CHeaderCheck
{
    private readonly List<string> _includes = [];
    private readonly StringBuilder _declarations = new();
    private readonly List<(string Expression, ulong Value, string Name)> _checks = [];

    /// <summary>How many assertions were added.</summary>
    public int Count => _checks.Count;

    /// <summary>The path of gcc on PATH, or null when it is not installed (a test then skips).</summary>
    public static string? FindCompiler()
        => ExecutableSearch.FindOnPath("gcc");

    /// <summary>Adds <c>#include &lt;<paramref name="header"/>&gt;</c>.</summary>
    public CHeaderCheck Include(string header)
    {
        _includes.Add(header);
        return this;
    }

    /// <summary>
    /// Adds C declarations after the includes: the structs of a wire format that has no installed header (LGMP,
    /// KVMFR), transcribed from its source.
    /// </summary>
    public CHeaderCheck Declare(string cSource)
    {
        _declarations.AppendLine(cSource);
        return this;
    }

    /// <summary>Asserts that the C expression <paramref name="cExpression"/> equals <paramref name="value"/>.</summary>
    public CHeaderCheck Equal(string cExpression, ulong value, string name)
    {
        _checks.Add((cExpression, value, name));
        return this;
    }

    /// <summary>
    /// <see cref="Equal(string, ulong, string)"/> for a signed or narrower C# value: both sides are compared as
    /// unsigned 64-bit numbers, which is equality for every value.
    /// </summary>
    public CHeaderCheck Equal(string cExpression, long value, string name) => Equal(cExpression, unchecked((ulong)value), name);

    /// <summary>
    /// Asserts that <typeparamref name="T"/> (a sequential or explicit-layout struct) has the size of
    /// <paramref name="cType"/> and that its instance fields, in declaration order, lie at the offsets of
    /// <paramref name="cFields"/>: one C field name per C# field, so a field added on one side only fails too.
    /// </summary>
    public CHeaderCheck Layout<T>(string cType, params string[] cFields)
        where T : struct
    {
        Equal($"sizeof({cType})", (ulong)Marshal.SizeOf<T>(), $"sizeof({cType}) vs {typeof(T).Name}");
        return FieldOffsets<T>(cType, cFields);
    }

    /// <summary>
    /// <see cref="Layout{T}"/> without the size: for a struct that declares only the leading fields a C struct
    /// once had (a wire format's "compat" size).
    /// </summary>
    public CHeaderCheck FieldOffsets<T>(string cType, params string[] cFields)
        where T : struct
    {
        ArgumentNullException.ThrowIfNull(cFields);
        FieldInfo[] fields = typeof(T).GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic);
        if (fields.Length != cFields.Length)
        {
            throw new ArgumentException($"{typeof(T).Name} has {fields.Length} fields, {cFields.Length} C names were given.", nameof(cFields));
        }

        for (int i = 0; i < fields.Length; i++)
        {
            Equal($"offsetof({cType}, {cFields[i]})", (ulong)Marshal.OffsetOf<T>(fields[i].Name), $"{cType}.{cFields[i]} vs {typeof(T).Name}.{fields[i].Name}");
        }

        return this;
    }

    /// <summary>The generated C source.</summary>
    public string Source
    {
        get
        {
            var source = new StringBuilder();
            source.AppendLine("#define _GNU_SOURCE");
            source.AppendLine("#include <stddef.h>"); // offsetof, which Layout and FieldOffsets write
            foreach (string include in _includes)
            {
                source.AppendLine(CultureInfo.InvariantCulture, $"#include <{include}>");
            }

            source.Append(_declarations);

            foreach ((string expression, ulong value, string name) in _checks)
            {
                source.AppendLine(CultureInfo.InvariantCulture,
                    $"_Static_assert((unsigned long long)({expression}) == {value}ULL, \"MISMATCH {name}: C# has {value} (0x{value:x}), C has a different value\");");
            }

            return source.ToString();
        }
    }

    /// <summary>Compiles the checks with <paramref name="compiler"/>; returns the failures (empty when C and C# agree).</summary>
    public IReadOnlyList<string> Run(string compiler)
    {
        string directory = Directory.CreateTempSubdirectory("vmm-cheader-").FullName;
        try
        {
            string file = Path.Combine(directory, "check.c");
            File.WriteAllText(file, Source);
            var start = new ProcessStartInfo(compiler)
            {
                RedirectStandardError = true,
                RedirectStandardOutput = true,
                UseShellExecute = false,
            };
            foreach (string argument in new[] { "-std=gnu11", "-fsyntax-only", "-fmax-errors=0", file })
            {
                start.ArgumentList.Add(argument);
            }

            using Process process = Process.Start(start) ?? throw new InvalidOperationException("gcc did not start.");
            Task<string> output = process.StandardOutput.ReadToEndAsync();
            string errors = process.StandardError.ReadToEnd();
            process.WaitForExit();
            _ = output.Result;
            List<string> failures = [.. errors.Split('\n').Where(l => l.Contains("error:", StringComparison.Ordinal)).Select(l => l[(l.IndexOf("error:", StringComparison.Ordinal) + 7)..].Trim())];
            if (process.ExitCode != 0 && failures.Count == 0)
            {
                failures.Add($"gcc exited with {process.ExitCode}: {errors}");
            }

            return failures;
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
