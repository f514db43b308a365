using System.Reflection;
using Vmm.Contracts.Devices;
using Vmm.Testing.Golden;

namespace Vmm.Contracts.Tests.PublicApi;

[Collection(SnapshotEnvironmentCollection.Name)]
public sealed class PublicApiTests
{
    private static Assembly Contracts => typeof(IDeviceFactory).Assembly;

    /// <summary>
    /// The plugin ABI. A change here is a contract change: additive ones bump ContractVersion.Minor, anything else
    /// bumps Major. Accept an intended change with UPDATE_SNAPSHOTS=1 and commit the .verified.txt.
    /// </summary>
    [Fact]
    public void Contracts_surface_matches_snapshot()
        => Snapshot.Verify(PublicApiGenerator.Generate(Contracts));

    [Fact]
    public void Contracts_reference_only_the_framework_and_extension_abstractions()
    {
        string[] references = Contracts.GetReferencedAssemblies().Select(a => a.Name!).Order(StringComparer.Ordinal).ToArray();

        string[] unexpected = references.Where(name => !IsAllowed(name)).ToArray();

        Assert.NotEmpty(references);
        Assert.True(unexpected.Length == 0, "Vmm.Contracts must not depend on: " + string.Join(", ", unexpected));
    }

    [Fact]
    public void The_generator_sees_what_a_plugin_author_sees()
    {
        string api = PublicApiGenerator.Generate(Contracts);

        Assert.Contains($"public const int Major = {ContractVersion.Major};", api, StringComparison.Ordinal);
        Assert.DoesNotContain("public void AddReadable(", api, StringComparison.Ordinal);
        Assert.Contains("public abstract class DeviceFactory<TOptions> : IDeviceFactory where TOptions : class, new()", api, StringComparison.Ordinal);
        Assert.Contains("bool TryPop(out DescriptorChain? chain)", api, StringComparison.Ordinal);
        Assert.DoesNotContain("Cast(", api, StringComparison.Ordinal);
    }

    private static bool IsAllowed(string name)
        => name is "netstandard" or "mscorlib" or "Microsoft.Extensions.Primitives"
            || name.StartsWith("System.", StringComparison.Ordinal)
            || name == "System"
            || (name.StartsWith("Microsoft.Extensions.", StringComparison.Ordinal) && name.EndsWith(".Abstractions", StringComparison.Ordinal));
}
