using System.Text.Json;
using Vmm.Testing.Golden;
using Xunit;

namespace Vmm.Cli.Tests;

/// <summary>
/// Validates every config in examples/ with the real plugin host and the built-in plugins (copied next to the test
/// like next to vmm). Files named invalid*.json must fail; the others must pass, or are skipped naming the guest
/// file they need that is not built yet.
/// </summary>
public sealed class ExamplesTests
{
    private static readonly string s_repoRoot = FindRepoRoot();

    public static TheoryData<string> Examples() =>
        new(Directory.EnumerateFiles(Path.Combine(s_repoRoot, "examples"), "*.json").Select(Path.GetFileName).Order(StringComparer.Ordinal)!);

    [Theory]
    [MemberData(nameof(Examples))]
    public async Task Example_ValidatesAsExpected(string name)
    {
        string file = Path.Combine(s_repoRoot, "examples", name);
        bool invalid = name.StartsWith("invalid", StringComparison.Ordinal);
        if (!invalid && MissingMachineFile(file) is string missing)
        {
            Assert.Skip($"{name} needs '{missing}', which is not built yet (tools/guest-image builds the guest image).");
        }

        (int exitCode, string output) = await ValidateAsync(file);

        Assert.True(invalid ? exitCode == 3 : exitCode == 0, $"exit {exitCode}:\n{output}");
    }

    [Fact]
    public async Task InvalidExample_Report()
    {
        (_, string output) = await ValidateAsync(Path.Combine(s_repoRoot, "examples", "invalid.json"));

        Snapshot.Verify(output, new SnapshotSettings().ScrubPath(s_repoRoot, "RepoRoot"));
    }

    /// <summary>
    /// The built-in plugins ship next to vmm, load, and register exactly the device types their manifests declare.
    /// </summary>
    [Theory]
    [InlineData("virtio-rng", "virtio-rng")]
    [InlineData("virtio-input", "virtio-input")]
    [InlineData("virtio-gpu", "virtio-gpu")]
    [InlineData("virtio-fs", "virtio-fs")]
    [InlineData("display", "display-png,display-vnc,display-test-pattern")]
    [InlineData("ivshmem", "ivshmem,kvmfr-export")]
    [InlineData("cross-domain", "cross-domain")]
    [InlineData("virtio-vsock", "virtio-vsock")]
    public async Task BuiltInPlugin_IsNextToVmm_AndLoads(string name, string deviceTypes)
    {
        using StringWriter output = new();
        using StringWriter error = new();

        await Program.RunAsync(["plugins", "list", "--json"], output, error, TestContext.Current.CancellationToken);

        JsonElement plugin = JsonDocument.Parse(output.ToString()).RootElement.EnumerateArray().Single(p => p.GetProperty("name").GetString() == name);
        Assert.Equal("loaded", plugin.GetProperty("status").GetString());
        Assert.Equal(deviceTypes, string.Join(",", plugin.GetProperty("deviceTypes").EnumerateArray().Select(t => t.GetString())));
        Assert.Equal(Path.Combine(AppContext.BaseDirectory, "plugins", name), plugin.GetProperty("directory").GetString());
    }

    [Fact]
    public async Task BuiltInPlugins_AreAllListed()
    {
        using StringWriter output = new();
        using StringWriter error = new();

        await Program.RunAsync(["plugins", "list", "--json"], output, error, TestContext.Current.CancellationToken);

        string[] names = [.. JsonDocument.Parse(output.ToString()).RootElement.EnumerateArray().Select(p => p.GetProperty("name").GetString()!)];
        Assert.Equal(["cross-domain", "display", "ivshmem", "virtio-fs", "virtio-gpu", "virtio-input", "virtio-rng", "virtio-vsock"], names);
    }

    private static async Task<(int ExitCode, string Output)> ValidateAsync(string file)
    {
        using StringWriter output = new();
        using StringWriter error = new();
        int exitCode = await Program.RunAsync(["config", "validate", file], output, error, TestContext.Current.CancellationToken);
        return (exitCode, output.ToString());
    }

    private static string? MissingMachineFile(string file)
    {
        using JsonDocument document = JsonDocument.Parse(File.ReadAllText(file), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        if (!document.RootElement.TryGetProperty("machine", out JsonElement machine))
        {
            return null;
        }

        foreach (string member in new[] { "kernel", "initrd" })
        {
            if (machine.TryGetProperty(member, out JsonElement value) && value.ValueKind == JsonValueKind.String)
            {
                string path = Path.GetFullPath(value.GetString()!, Path.GetDirectoryName(file)!);
                if (!File.Exists(path))
                {
                    return path;
                }
            }
        }

        return null;
    }

    private static string FindRepoRoot()
    {
        for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Framework.sln")) && Directory.Exists(Path.Combine(directory.FullName, "examples")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No Framework.sln with an examples folder above {AppContext.BaseDirectory}.");
    }
}
