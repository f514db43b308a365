using Vmm.Cli;

namespace Vmm.Integration.Tests.Cli;

/// <summary>
/// <c>vmm run --config</c> in this process, as the guest tests start their VM: the console is kept and watched for a
/// marker the guest prints when it is ready, stderr is kept, and <see cref="WriteOutput"/> puts both in the test's output.
/// </summary>
internal sealed class InProcessVmmRun : IDisposable
{
    private readonly StringWriter _error = new();

    public InProcessVmmRun(string config, string marker, CancellationToken cancellationToken)
    {
        Console = new MarkerWriter(marker);
        Exit = Program.RunAsync(["run", "--config", config], Console, TextWriter.Synchronized(_error), cancellationToken);
    }

    /// <summary>What the guest printed.</summary>
    public MarkerWriter Console { get; }

    /// <summary>The run's exit code, once it ends.</summary>
    public Task<int> Exit { get; }

    /// <summary>What vmm wrote to stderr so far.</summary>
    public string Error => _error.ToString();

    /// <summary>Waits until the guest printed the marker.</summary>
    public Task WaitForMarkerAsync(TimeSpan limit, CancellationToken cancellationToken) => Console.Seen.Task.WaitAsync(limit, cancellationToken);

    /// <summary>Writes stderr and the console to the test's output.</summary>
    public void WriteOutput() => TestContext.Current.TestOutputHelper?.WriteLine($"--- stderr\n{_error}\n--- console\n{Console}");

    public void Dispose() => _error.Dispose();
}
