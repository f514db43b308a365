using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Vmm.Core.Tests.Interop;

/// <summary>
/// Generates a C file of <c>_Static_assert</c>s that C# values equal what the system headers say, compiles it
/// with gcc, and lists every assertion (or unknown name) that failed.
/// </summary>
internal sealed class CHeaderCheck
{
    private readonly List<string> _includes = [];
    private readonly List<(string Expression, ulong Value, string Name)> _checks = [];

    /// <summary>The path of gcc, or null when it is not installed.</summary>
    public static string? FindCompiler()
    {
        foreach (string directory in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(directory, "gcc");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    public CHeaderCheck Include(string header)
    {
        _includes.Add(header);
        return this;
    }

    /// <summary>Asserts that the C expression <paramref name="cExpression"/> equals <paramref name="value"/>.</summary>
    public CHeaderCheck Equal(string cExpression, ulong value, string name)
    {
        _checks.Add((cExpression, value, name));
        return this;
    }

    public int Count => _checks.Count;

    public string Source
    {
        get
        {
            var source = new StringBuilder();
            source.AppendLine("#define _GNU_SOURCE");
            foreach (string include in _includes)
            {
                source.AppendLine(CultureInfo.InvariantCulture, $"#include <{include}>");
            }

            foreach ((string expression, ulong value, string name) in _checks)
            {
                source.AppendLine(CultureInfo.InvariantCulture,
                    $"_Static_assert((unsigned long long)({expression}) == {value}ULL, \"MISMATCH {name}: C# has {value} (0x{value:x}), C has a different value\");");
            }

            return source.ToString();
        }
    }

    /// <summary>Compiles the checks; returns the failures (empty when C and C# agree).</summary>
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
            foreach (string argument in new[] { "-std=c11", "-fsyntax-only", "-fmax-errors=0", file })
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
