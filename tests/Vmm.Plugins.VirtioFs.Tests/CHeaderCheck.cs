using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Vmm.Plugins.VirtioFs.Tests;

/// <summary>
/// Generates C with one <c>_Static_assert</c> per value that C# declares, compiles it with gcc, and returns the
/// assertions that failed (empty when C# and the headers agree).
/// </summary>
internal sealed class CHeaderCheck
{
    private readonly List<string> _includes = [];
    private readonly List<(string Expression, ulong Value, string Name)> _checks = [];

    public int Count => _checks.Count;

    /// <summary>gcc on PATH, or null.</summary>
    public static string? FindCompiler()
        => (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, "gcc")).FirstOrDefault(File.Exists);

    public CHeaderCheck Include(string header)
    {
        _includes.Add(header);
        return this;
    }

    public CHeaderCheck Equal(string cExpression, ulong value, string name)
    {
        _checks.Add((cExpression, value, name));
        return this;
    }

    public IReadOnlyList<string> Run(string compiler)
    {
        var source = new StringBuilder("#define _GNU_SOURCE\n");
        foreach (string include in _includes)
        {
            source.Append(CultureInfo.InvariantCulture, $"#include <{include}>\n");
        }

        foreach ((string expression, ulong value, string name) in _checks)
        {
            source.Append(CultureInfo.InvariantCulture, $"_Static_assert((unsigned long long)({expression}) == {value}ULL, \"MISMATCH {name}: C# has {value}\");\n");
        }

        string directory = Directory.CreateTempSubdirectory("vmm-fs-cheader-").FullName;
        try
        {
            string file = Path.Combine(directory, "check.c");
            File.WriteAllText(file, source.ToString());
            var start = new ProcessStartInfo(compiler)
            {
                RedirectStandardError = true,
                RedirectStandardOutput = true,
                UseShellExecute = false,
            };
            foreach (string argument in new[] { "-fsyntax-only", "-fmax-errors=0", file })
            {
                start.ArgumentList.Add(argument);
            }

            using Process process = Process.Start(start)!;
            string errors = process.StandardError.ReadToEnd();
            process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return process.ExitCode == 0 ? [] : [.. errors.Split('\n').Where(l => l.Contains("error", StringComparison.Ordinal))];
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
