namespace Vmm.Cli;

/// <summary>The entry point of the <c>vmm</c> command.</summary>
public static class Program
{
    /// <summary>Runs vmm with the console's streams.</summary>
    public static Task<int> Main(string[] args) => RunAsync(args, Console.Out, Console.Error);

    /// <summary>Runs vmm with <paramref name="output"/> and <paramref name="error"/> as its stdout and stderr.</summary>
    public static Task<int> RunAsync(string[] args, TextWriter output, TextWriter error) =>
        VmmCommand.RunAsync(args, CliContext.CreateDefault(output, error));
}
