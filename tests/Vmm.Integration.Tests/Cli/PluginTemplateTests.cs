using System.Diagnostics;
using System.Text;
using Vmm.Cli;
using Vmm.Contracts;

namespace Vmm.Integration.Tests.Cli;

/// <summary>
/// A plugin author's path from an empty folder, as docs/writing-a-plugin.md walks it: the Vmm.Contracts, Vmm.Testing
/// and template packages packed to a folder, <c>dotnet new vmm-plugin</c> out of tree, its tests run against the packed
/// packages, and the built plugin listed and validated by vmm.
/// </summary>
/// <remarks>
/// Packages get a version of their own (<c>MAJOR.MINOR.PATCH-t.*</c>) and restore into a NuGet cache of their own, with
/// the machine's cache as a read-only fallback for everything else: no stale copy is ever used and the machine's
/// cache is left as it was. The template goes into a template hive of its own for the same reason.
/// </remarks>
public sealed class PluginTemplateTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "vmm-template-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly StringBuilder _log = new();

    public PluginTemplateTests() => Directory.CreateDirectory(_root);

    [Fact]
    public async Task A_plugin_made_from_the_template_builds_out_of_tree_passes_its_tests_and_loads_in_vmm()
    {
        string repo = RepositoryRoot();
        string configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
        string version = $"{ContractVersion.Major}.{ContractVersion.Minor}.0-t.{DateTime.UtcNow:yyyyMMddHHmmss}";
        string packages = Path.Combine(_root, "packages");
        string hive = Path.Combine(_root, "template-hive");
        string work = Path.Combine(_root, "work");
        Directory.CreateDirectory(work);

        // What CI and the docs do: pack the two libraries as built, and the template.
        await DotnetAsync(repo, "pack", Path.Combine(repo, "contracts/Vmm.Contracts/Vmm.Contracts.csproj"), "--no-build", "--no-restore", "-c", configuration, "-o", packages, $"-p:Version={version}");

        // Restored for packing first: the host assemblies it carries are then private to the package, not dependencies.
        string testing = Path.Combine(repo, "src/Vmm.Testing/Vmm.Testing.csproj");
        try
        {
            await DotnetAsync(repo, "restore", testing, "--force", "-p:VmmPackTesting=true");
            await DotnetAsync(repo, "pack", testing, "--no-build", "--no-restore", "-c", configuration, "-o", packages, $"-p:Version={version}", "-p:VmmPackTesting=true");
        }
        finally
        {
            await DotnetAsync(repo, "restore", testing, "--force");
        }

        await DotnetAsync(repo, "pack", Path.Combine(repo, "tools/templates/Vmm.Templates.csproj"), "-c", configuration, "-o", packages, $"-p:Version={version}");
        Assert.True(File.Exists(Path.Combine(packages, $"Vmm.Testing.{version}.nupkg")));

        // The author: install the template, make a plugin, restore from the package folder.
        await DotnetAsync(work, "new", "install", Path.Combine(packages, $"Vmm.Templates.{version}.nupkg"), "--debug:custom-hive", hive);
        await DotnetAsync(work, "new", "vmm-plugin", "-n", "Hello", "--deviceType", "hello-rng", "--pluginName", "hello", "--vmmVersion", version, "--debug:custom-hive", hive);
        string solution = Path.Combine(work, "Hello");
        File.WriteAllText(Path.Combine(solution, "nuget.config"), NuGetConfig(packages));
        string manifest = File.ReadAllText(Path.Combine(solution, "Hello", "vmm-plugin.json"));
        Assert.Contains($"\"contractVersion\": \"{ContractVersion.Major}.{ContractVersion.Minor}\"", manifest, StringComparison.Ordinal);

        string testOutput = await DotnetAsync(solution, "test", Path.Combine(solution, "Hello.Tests", "Hello.Tests.csproj"));
        Assert.Contains("Passed!", testOutput, StringComparison.Ordinal);

        // vmm sees the built plugin, and a config that uses it (plugins.paths adds to the built-in folder) is valid.
        string pluginFolder = Path.Combine(solution, "Hello", "bin", "Debug", "net10.0");
        (int listCode, string list) = await VmmAsync("plugins", "list", "--plugin-path", pluginFolder);
        Assert.True(listCode == 0, list);
        Assert.Matches(@"hello\s+0\.1\.0\s+" + $"{ContractVersion.Major}\\.{ContractVersion.Minor}" + @"\s+loaded\s+hello-rng", list);

        string config = Path.Combine(solution, "vm.json");
        File.WriteAllText(config, $$"""
            {
              "machine": { "memory": "256M", "vcpus": 1 },
              "plugins": { "paths": ["{{pluginFolder}}"] },
              "devices": [ { "id": "hello0", "plugin": "hello", "type": "hello-rng", "options": { "fill": 90 } } ]
            }
            """);
        (int validateCode, string validate) = await VmmAsync("config", "validate", config);
        Assert.True(validateCode == 0, validate);
        Assert.Contains("valid", validate, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        TestContext.Current.TestOutputHelper?.WriteLine(_log.ToString());
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // A build server may still hold a file; the temp folder is cleaned by the OS eventually.
        }
    }

    private static async Task<(int Code, string Out)> VmmAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        int code = await Program.RunAsync(args, output, error, TestContext.Current.CancellationToken);
        return (code, output.ToString() + error);
    }

    private static string NuGetConfig(string packages) => $"""
        <?xml version="1.0" encoding="utf-8"?>
        <configuration>
          <packageSources>
            <clear />
            <add key="vmm-packages" value="{packages}" />
          </packageSources>
          <fallbackPackageFolders>
            <add key="machine-cache" value="{Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages")}" />
          </fallbackPackageFolders>
        </configuration>
        """;

    private async Task<string> DotnetAsync(string directory, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        // The test host's MSBuild and test-platform settings would steer the child build; the child finds its own.
        foreach (string key in start.Environment.Keys.Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) || k.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase)).ToArray())
        {
            start.Environment.Remove(key);
        }

        start.Environment["NUGET_PACKAGES"] = Path.Combine(_root, "nuget-cache");
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        var watch = Stopwatch.StartNew();
        using Process process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        Task<string> stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        string text = await stdout + await stderr;
        _log.AppendLine($"$ dotnet {string.Join(' ', args)}  ({watch.Elapsed.TotalSeconds:F1} s, exit {process.ExitCode})").AppendLine(text);
        Assert.True(process.ExitCode == 0, $"dotnet {string.Join(' ', args)} failed:\n{text}");
        return text;
    }

    private static string RepositoryRoot()
    {
        DirectoryInfo? repo = new(AppContext.BaseDirectory);
        while (repo is not null && !File.Exists(Path.Combine(repo.FullName, "Framework.sln")))
        {
            repo = repo.Parent;
        }

        Assert.NotNull(repo);
        return repo.FullName;
    }
}
