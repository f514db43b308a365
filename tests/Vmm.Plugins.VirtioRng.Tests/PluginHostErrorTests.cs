using Vmm.Contracts;
using Vmm.Core.Plugins;

namespace Vmm.Plugins.VirtioRng.Tests;

public sealed class PluginHostErrorTests
{
    [Fact]
    public void A_plugin_that_throws_while_registering_is_named()
    {
        using PluginHost host = TestPlugins.CreateHost(TestPlugins.Fixture("throwing"));

        PluginLoadException e = Assert.Throws<PluginLoadException>(host.LoadAll);

        Assert.Equal("throwing", e.PluginName);
        Assert.Contains("Plugin 'throwing' threw while registering its services", e.Message, StringComparison.Ordinal);
        Assert.Contains("registration is broken", e.Message, StringComparison.Ordinal);
        Assert.IsType<InvalidOperationException>(e.InnerException);
        PluginInfo info = Assert.Single(host.Plugins);
        Assert.Equal(PluginLoadStatus.Failed, info.Status);
        Assert.Equal(e.Message, info.Error);
    }

    [Fact]
    public void A_plugin_for_another_contract_major_is_refused_before_its_code_loads()
    {
        using PluginHost host = TestPlugins.CreateHost(TestPlugins.Fixture("future-contract"));

        PluginLoadException e = Assert.Throws<PluginLoadException>(host.LoadAll);

        Assert.Equal("future-contract", e.PluginName);
        Assert.Contains($"Plugin 'future-contract' targets contract 3.0; this host provides {ContractVersion.Major}.{ContractVersion.Minor}.", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(AppDomain.CurrentDomain.GetAssemblies(), a => a.GetName().Name == "Vmm.Fixtures.FutureContractPlugin");
    }

    [Fact]
    public void A_plugin_missing_a_dependency_names_the_dependency()
    {
        Assert.False(File.Exists(Path.Combine(TestPlugins.Fixture("missing-dependency"), "Vmm.Fixtures.Library.dll")));
        using PluginHost host = TestPlugins.CreateHost(TestPlugins.Fixture("missing-dependency"));

        PluginLoadException e = Assert.Throws<PluginLoadException>(host.LoadAll);

        Assert.Equal("missing-dependency", e.PluginName);
        Assert.Contains("Plugin 'missing-dependency' is missing its dependency 'Vmm.Fixtures.Library, Version=1.0.0.0", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_factory_for_an_undeclared_device_type_is_refused()
    {
        using PluginHost host = TestPlugins.CreateHost(TestPlugins.Fixture("undeclared-device"));

        PluginLoadException e = Assert.Throws<PluginLoadException>(host.LoadAll);

        Assert.Equal("undeclared-device", e.PluginName);
        Assert.Contains(
            "Plugin 'undeclared-device' registers a factory for device type 'undeclared-device', which its manifest does not declare (it declares: declared-device)",
            e.Message,
            StringComparison.Ordinal);
        Assert.False(host.TryFindFactory("undeclared-device", out _, out _));
    }

    [Fact]
    public void A_declared_device_type_without_a_factory_fails_the_plugin_naming_plugin_and_type()
    {
        using var folder = new TempPluginFolder();
        folder.AddCopy(TestPlugins.VirtioRng, "declares-more", manifest => manifest
            .Replace("\"name\": \"virtio-rng\"", "\"name\": \"declares-more\"", StringComparison.Ordinal)
            .Replace("\"deviceTypes\": [ \"virtio-rng\" ]", "\"deviceTypes\": [ \"virtio-rng\", \"mistake-b\" ]", StringComparison.Ordinal));
        using PluginHost host = TestPlugins.CreateHost(folder.Path);

        PluginLoadException e = Assert.Throws<PluginLoadException>(host.LoadAll);

        Assert.Equal("declares-more", e.PluginName);
        Assert.Equal(
            "Plugin 'declares-more' declares device type 'mistake-b' in its manifest but registers no factory for it (it registers: virtio-rng). "
                + "Register a factory for each declared type, or remove the type from \"deviceTypes\" in vmm-plugin.json.",
            e.Message);
        PluginInfo info = Assert.Single(host.Plugins);
        Assert.Equal((PluginLoadStatus.Failed, e.Message), (info.Status, info.Error));
        Assert.False(host.TryFindFactory("virtio-rng", out _, out _));
    }

    [Fact]
    public void A_built_in_plugin_gives_way_to_one_of_the_same_name_in_the_search_paths()
    {
        using var mine = new TempPluginFolder();
        using var builtIn = new TempPluginFolder();
        string chosen = mine.AddCopy(TestPlugins.VirtioRng, "virtio-rng");
        builtIn.AddCopy(TestPlugins.VirtioRng, "virtio-rng");
        var options = new PluginHostOptions();
        options.SearchPaths.Add(mine.Path);
        options.BuiltInSearchPaths.Add(builtIn.Path);
        options.BuiltInSearchPaths.Add("/no/such/built-in/folder");
        using var host = new PluginHost(options);

        host.LoadAll();

        PluginInfo info = Assert.Single(host.Plugins);
        Assert.Equal((chosen, PluginLoadStatus.Loaded), (info.Directory, info.Status));
    }

    [Fact]
    public void The_same_plugin_twice_in_the_search_paths_is_still_an_error()
    {
        using var first = new TempPluginFolder();
        using var second = new TempPluginFolder();
        first.AddCopy(TestPlugins.VirtioRng, "virtio-rng");
        string twin = second.AddCopy(TestPlugins.VirtioRng, "virtio-rng");
        using PluginHost host = TestPlugins.CreateHost(first.Path, second.Path);

        IReadOnlyList<PluginInfo> plugins = host.Discover();

        Assert.Equal([PluginLoadStatus.Discovered, PluginLoadStatus.Failed], plugins.Select(p => p.Status));
        Assert.Contains($"and in '{twin}'", plugins[1].Error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_folder_without_a_manifest_is_an_error_naming_it()
    {
        using var folder = new TempPluginFolder();
        Directory.CreateDirectory(Path.Combine(folder.Path, "not-a-plugin"));
        using PluginHost host = TestPlugins.CreateHost(folder.Path);

        PluginLoadException e = Assert.Throws<PluginLoadException>(() => host.Discover());

        Assert.Contains($"Plugin folder '{folder.Path}' holds no vmm-plugin.json", e.Message, StringComparison.Ordinal);
        Assert.Equal(Path.GetFileName(folder.Path), e.PluginName);
    }

    [Fact]
    public void A_missing_search_path_is_an_error_naming_it()
    {
        string missing = Path.Combine(TestPlugins.Root, "no-such-plugin");
        using PluginHost host = TestPlugins.CreateHost(missing);

        PluginLoadException e = Assert.Throws<PluginLoadException>(host.LoadAll);

        Assert.Equal("no-such-plugin", e.PluginName);
        Assert.Contains($"Plugin folder '{missing}' does not exist", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bad_manifest_names_the_plugin_folder_the_file_and_the_field()
    {
        using var folder = new TempPluginFolder();
        string copy = folder.AddCopy(TestPlugins.VirtioRng, "broken-rng", m => m.Replace("\"entryPoint\"", "\"entry\"", StringComparison.Ordinal));
        using PluginHost host = TestPlugins.CreateHost(folder.Path);

        PluginInfo info = Assert.Single(host.Discover());
        PluginLoadException e = Assert.Throws<PluginLoadException>(host.LoadAll);

        Assert.Equal(PluginLoadStatus.Failed, info.Status);
        Assert.Equal("broken-rng", e.PluginName);
        Assert.Contains("Plugin 'broken-rng' has a bad manifest", e.Message, StringComparison.Ordinal);
        Assert.Contains($"{Path.Combine(copy, "vmm-plugin.json")}: $.entryPoint: is missing.", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("No.Such.Plugin", "which is not a type in Vmm.Plugins.VirtioRng")]
    [InlineData("Vmm.Plugins.VirtioRng.VirtioRngOptions", "which must be a public, non-abstract class implementing Vmm.Contracts.Plugins.IVmmPlugin")]
    public void A_wrong_entry_point_is_named(string entryPoint, string expected)
    {
        using var folder = new TempPluginFolder();
        folder.AddCopy(TestPlugins.VirtioRng, "rng", m => m.Replace("Vmm.Plugins.VirtioRng.VirtioRngPlugin", entryPoint, StringComparison.Ordinal));
        using PluginHost host = TestPlugins.CreateHost(folder.Path);

        PluginLoadException e = Assert.Throws<PluginLoadException>(host.LoadAll);

        Assert.Contains($"Plugin 'virtio-rng' names the entry point '{entryPoint}', {expected}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_device_type_must_be_unique_across_plugins()
    {
        using var folder = new TempPluginFolder();
        folder.AddCopy(TestPlugins.VirtioRng, "a", m => m.Replace("\"name\": \"virtio-rng\"", "\"name\": \"rng-a\"", StringComparison.Ordinal));
        folder.AddCopy(TestPlugins.VirtioRng, "b", m => m.Replace("\"name\": \"virtio-rng\"", "\"name\": \"rng-b\"", StringComparison.Ordinal));
        using PluginHost host = TestPlugins.CreateHost(folder.Path);

        PluginLoadException e = Assert.Throws<PluginLoadException>(host.LoadAll);

        Assert.Equal("rng-b", e.PluginName);
        Assert.Contains("Plugin 'rng-b' provides device type 'virtio-rng', which plugin 'rng-a' already provides", e.Message, StringComparison.Ordinal);
        Assert.True(host.TryGetFactory("rng-a", "virtio-rng", out _));
    }

    [Fact]
    public void Optional_plugins_that_fail_are_marked_and_the_rest_load()
    {
        using PluginHost host = TestPlugins.CreateHost(
            [TestPlugins.Fixtures, TestPlugins.VirtioRng],
            ["future-contract", "missing-dependency", "throwing", "undeclared-device"]);

        host.LoadAll();

        Dictionary<string, PluginInfo> plugins = host.Plugins.ToDictionary(p => p.Name);
        Assert.Equal(5, plugins.Count);
        Assert.Equal(PluginLoadStatus.Loaded, plugins["virtio-rng"].Status);
        foreach (string name in (string[])["future-contract", "missing-dependency", "throwing", "undeclared-device"])
        {
            Assert.Equal(PluginLoadStatus.Failed, plugins[name].Status);
            Assert.Contains($"Plugin '{name}'", plugins[name].Error, StringComparison.Ordinal);
        }

        Assert.True(host.TryGetFactory("virtio-rng", "virtio-rng", out _));
    }

    [Fact]
    public void A_required_plugin_that_fails_stops_LoadAll()
    {
        using PluginHost host = TestPlugins.CreateHost(
            [TestPlugins.Fixtures, TestPlugins.VirtioRng],
            ["future-contract", "missing-dependency", "undeclared-device"]);

        PluginLoadException e = Assert.Throws<PluginLoadException>(host.LoadAll);

        Assert.Equal("throwing", e.PluginName);
        Assert.Equal(PluginLoadStatus.Failed, host.Plugins.Single(p => p.Name == "future-contract").Status);
    }

    [Fact]
    public void Loading_an_unknown_plugin_names_it()
    {
        using PluginHost host = TestPlugins.CreateHost(TestPlugins.VirtioRng);
        host.Discover();

        PluginLoadException e = Assert.Throws<PluginLoadException>(() => host.Load("virtio-gpu"));

        Assert.Equal("virtio-gpu", e.PluginName);
        Assert.Contains("Plugin 'virtio-gpu' was not found", e.Message, StringComparison.Ordinal);
    }
}
