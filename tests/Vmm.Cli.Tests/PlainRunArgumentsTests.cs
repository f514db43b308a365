using Xunit;

namespace Vmm.Cli.Tests;

/// <summary>The start-up path's own parser of <c>vmm run --config FILE</c>, and that it behaves as System.CommandLine does.</summary>
public sealed class PlainRunArgumentsTests : IDisposable
{
    private readonly CliFixture _fixture = new();
    private readonly CliRunner _cli = new();

    public void Dispose() => _fixture.Dispose();

    [Theory]
    [InlineData(false, "run", "--config", "vm.json")]
    [InlineData(false, "run", "-c", "vm.json")]
    [InlineData(true, "run", "-c", "vm.json", "-v")]
    [InlineData(true, "-v", "run", "--config", "vm.json")]
    [InlineData(true, "run", "--verbose", "-c", "vm.json")]
    public void A_plain_run_is_recognised(bool verbose, params string[] args)
    {
        Assert.True(PlainRunArguments.TryParse(args, out string config, out bool parsedVerbose));
        Assert.Equal("vm.json", config);
        Assert.Equal(verbose, parsedVerbose);
    }

    [Theory]
    [InlineData("run")]
    [InlineData("run", "--config")]
    [InlineData("run", "--config", "-v")]
    [InlineData("run", "--config=vm.json")]
    [InlineData("run", "-c", "a.json", "-c", "b.json")]
    [InlineData("run", "-c", "vm.json", "--", "uname")]
    [InlineData("run", "-c", "vm.json", "-t")]
    [InlineData("run", "-c", "@args.rsp")]
    [InlineData("run", "-c", "vm.json", "--help")]
    [InlineData("run", "-c", "vm.json", "-v", "-v")]
    [InlineData("-c", "vm.json", "run")]
    [InlineData("config", "validate", "-c", "vm.json")]
    [InlineData("run", "run", "-c", "vm.json")]
    public void Anything_else_is_left_to_System_CommandLine(params string[] args) =>
        Assert.False(PlainRunArguments.TryParse(args, out _, out _));

    [Fact]
    public async Task Both_parsers_run_the_same_command()
    {
        // "--config FILE" takes the plain path, "--config=FILE" goes through System.CommandLine: same report, same code.
        string file = _fixture.Write("vm.json", """{ "machine": { "vcpus": 300 } }""");

        CliResult plain = await _cli.RunAsync("run", "--config", file);
        CliResult parsed = await _cli.RunAsync("run", $"--config={file}");

        Assert.Equal(3, plain.ExitCode);
        Assert.Equal(plain.ExitCode, parsed.ExitCode);
        Assert.Equal(plain.Error, parsed.Error);
        Assert.Contains("$.machine.vcpus", plain.Error, StringComparison.Ordinal);
    }
}
