using System.Reflection;
using System.Text.Json;
using Vmm.Contracts;
using Vmm.Testing;

namespace Vmm.Contracts.Tests.Versioning;

/// <summary>
/// One contract version (contracts/ContractVersion.props): the constants, the assembly and package versions, and every
/// manifest that names a contract version (built-in plugins, the plugin template) must agree with it.
/// </summary>
public sealed class ContractVersionTests
{
    private static readonly Assembly s_contracts = typeof(ContractVersion).Assembly;

    public static TheoryData<string> Manifests()
    {
        var data = new TheoryData<string>();
        foreach (string manifest in Directory.EnumerateFiles(Path.Combine(SourceTree.Root, "plugins"), "vmm-plugin.json", SearchOption.AllDirectories)
            .Concat(Directory.EnumerateFiles(Path.Combine(SourceTree.Root, "tools", "templates", "content"), "vmm-plugin.json", SearchOption.AllDirectories))
            .Where(p => !p.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !p.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)))
        {
            data.Add(Path.GetRelativePath(SourceTree.Root, manifest));
        }

        return data;
    }

    [Fact]
    public void The_assembly_version_is_the_major_and_the_package_version_starts_with_major_minor()
    {
        Assert.Equal(new Version(ContractVersion.Major, 0, 0, 0), s_contracts.GetName().Version);
        string informational = s_contracts.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion;
        Assert.StartsWith($"{ContractVersion.Major}.{ContractVersion.Minor}.", informational, StringComparison.Ordinal);
    }

    [Fact]
    public void The_constants_come_from_the_one_version_property()
    {
        string props = File.ReadAllText(Path.Combine(SourceTree.Root, "contracts", "ContractVersion.props"));

        Assert.Contains($"<VmmContractMajor>{ContractVersion.Major}</VmmContractMajor>", props, StringComparison.Ordinal);
        Assert.Contains($"<VmmContractMinor>{ContractVersion.Minor}</VmmContractMinor>", props, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Manifests))]
    public void Every_shipped_manifest_names_the_current_contract_version(string manifest)
    {
        using JsonDocument document = JsonDocument.Parse(File.ReadAllText(Path.Combine(SourceTree.Root, manifest)));

        Assert.Equal($"{ContractVersion.Major}.{ContractVersion.Minor}", document.RootElement.GetProperty("contractVersion").GetString());
    }

    [Fact]
    public void The_template_asks_for_packages_of_the_current_contract_version()
    {
        string content = Path.Combine(SourceTree.Root, "tools", "templates", "content", "vmm-plugin");
        string floating = $"Version=\"{ContractVersion.Major}.{ContractVersion.Minor}.*\"";

        Assert.Contains(floating, File.ReadAllText(Path.Combine(content, "MyPlugin", "MyPlugin.csproj")), StringComparison.Ordinal);
        Assert.Contains(floating, File.ReadAllText(Path.Combine(content, "MyPlugin.Tests", "MyPlugin.Tests.csproj")), StringComparison.Ordinal);
    }
}
