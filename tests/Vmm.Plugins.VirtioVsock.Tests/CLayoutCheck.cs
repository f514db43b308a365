using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Vmm.Plugins.VirtioVsock.Tests;

/// <summary>
/// Compiles C declarations together with one <c>_Static_assert</c> per C# value (the C expression must equal the
/// number C# has), and returns gcc's error lines: empty when every size and offset agrees.
/// </summary>
internal sealed class CLayoutCheck(string declarations)
{
    private readonly List<(string Expression, long Value, string Name)> _checks = [];

    public int Count => _checks.Count;

    /// <summary>gcc on PATH, or null.</summary>
    public static string? FindCompiler()
        => (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, "gcc")).FirstOrDefault(File.Exists);

    public CLayoutCheck Equal(string cExpression, long csharpValue, string name)
    {
        _checks.Add((cExpression, csharpValue, name));
        return this;
    }

    public string Source()
    {
        var source = new StringBuilder("#include <stddef.h>\n#include <stdint.h>\n").Append(declarations).Append('\n');
        foreach ((string expression, long value, string name) in _checks)
        {
            source.Append(CultureInfo.InvariantCulture, $"_Static_assert((long long)({expression}) == {value}LL, \"MISMATCH {name}: C# has {value}\");\n");
        }

        return source.ToString();
    }

    public IReadOnlyList<string> Run(string compiler)
    {
        string directory = Directory.CreateTempSubdirectory("vmm-vsock-layout-").FullName;
        try
        {
            string file = Path.Combine(directory, "layout.c");
            File.WriteAllText(file, Source());
            var start = new ProcessStartInfo(compiler) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            foreach (string argument in new[] { "-std=gnu11", "-fsyntax-only", "-fmax-errors=0", file })
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
