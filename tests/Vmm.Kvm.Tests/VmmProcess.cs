using System.Diagnostics;
using System.Text;
using Xunit;

namespace Vmm.Kvm.Tests;

/// <summary><c>vmm run</c> as a user starts it: the vmm.dll in the test output (with its built-in plugins), as a process.</summary>
internal static class VmmProcess
{
    /// <summary>
    /// Runs <c>vmm run --config</c> <paramref name="config"/> to its end, or until stdout holds <paramref name="until"/>
    /// (then vmm is stopped); returns the exit code and both streams.
    /// </summary>
    /// <exception cref="TimeoutException">Neither happened within 90 s (180 s with <paramref name="until"/>).</exception>
    public static async Task<(int ExitCode, string Output, string Errors)> RunAsync(string config, string? until = null)
    {
        CancellationToken cancel = TestContext.Current.CancellationToken;
        ProcessStartInfo start = new("dotnet", [Path.Combine(AppContext.BaseDirectory, "vmm.dll"), "run", "--config", config])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        using Process vmm = Process.Start(start)!;
        vmm.StandardInput.Close();
        StringBuilder output = new();
        TaskCompletionSource seen = new(TaskCreationOptions.RunContinuationsAsynchronously);
        Task reader = Task.Run(async () =>
        {
            char[] buffer = new char[4096];
            int read;
            while ((read = await vmm.StandardOutput.ReadAsync(buffer)) > 0)
            {
                lock (output)
                {
                    output.Append(buffer, 0, read);
                    if (until is not null && output.ToString().Contains(until, StringComparison.Ordinal))
                    {
                        seen.TrySetResult();
                    }
                }
            }
        });
        Task<string> errors = vmm.StandardError.ReadToEndAsync(cancel);
        TimeSpan limit = TimeSpan.FromSeconds(until is null ? 90 : 180);
        Task exited = vmm.WaitForExitAsync(cancel);
        Task first = await Task.WhenAny(exited, seen.Task, Task.Delay(limit, cancel));
        if (!vmm.HasExited)
        {
            vmm.Kill(entireProcessTree: true);
        }

        await vmm.WaitForExitAsync(cancel);
        await reader;
        string text;
        lock (output)
        {
            text = output.ToString();
        }

        if (first != exited && first != seen.Task)
        {
            throw new TimeoutException($"vmm did not finish in {limit.TotalSeconds} s; stdout so far: {text}");
        }

        return (vmm.ExitCode, text, await errors);
    }
}
