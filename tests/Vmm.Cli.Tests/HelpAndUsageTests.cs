using Microsoft.Extensions.Logging;
using Xunit;

namespace Vmm.Cli.Tests;

public sealed class HelpAndUsageTests
{
    private readonly CliRunner _cli = new();

    [Fact]
    public async Task Help_ListsTheCommandsAndTheExitCodes()
    {
        CliResult result = await _cli.RunAsync("--help");

        Assert.Equal(0, result.ExitCode);
        foreach (string expected in new[] { "run", "config", "plugins", "ctl", "0    ok", "3    config invalid", "5    platform not available", "130  interrupted (Ctrl-C)" })
        {
            Assert.Contains(expected, result.Out, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("frobnicate")]
    [InlineData("run")]
    [InlineData("config validate")]
    [InlineData("plugins list --colour")]
    [InlineData("ctl status")]
    public async Task UsageErrors_Exit2_WithAMessage(string commandLine)
    {
        CliResult result = await _cli.RunAsync(commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries));

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("Run 'vmm --help' for usage.", result.Error, StringComparison.Ordinal);
        Assert.StartsWith("vmm: ", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MistypedCommand_IsOneLineNamingTheCommands()
    {
        CliResult result = await _cli.RunAsync("frobnicate");

        Assert.Equal(2, result.ExitCode);
        Assert.Equal(
            ["vmm: unknown command or option 'frobnicate' (commands: run, config, plugins, ctl, exec, serve-vhost-user)", "Run 'vmm --help' for usage."],
            result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }

    [Fact]
    public async Task ProgramEntry_WritesToTheGivenWriters()
    {
        using StringWriter output = new();
        using StringWriter error = new();

        int exitCode = await Program.RunAsync(["--help"], output, error, TestContext.Current.CancellationToken);

        Assert.Equal(0, exitCode);
        Assert.Contains("Exit codes:", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verbose_RaisesTheLogLevel_OnAnyCommand()
    {
        await _cli.RunAsync("plugins", "list", "--plugin-path", Path.GetTempPath());
        await _cli.RunAsync("plugins", "list", "--plugin-path", Path.GetTempPath(), "--verbose");
        await _cli.RunAsync("-v", "plugins", "list", "--plugin-path", Path.GetTempPath());

        Assert.Equal([LogLevel.Warning, LogLevel.Debug, LogLevel.Debug], _cli.LogLevels);
    }
}
