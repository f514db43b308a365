using Xunit;
using Vmm.Core.Config;

namespace Vmm.Core.Tests.Config;

/// <summary>A temp folder to put configs and kernels in, and helpers to validate JSON against a fake catalog.</summary>
internal sealed class ConfigFixture : IDisposable
{
    public ConfigFixture()
    {
        Directory = Path.Combine(Path.GetTempPath(), "vmm-config-tests-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
    }

    public string Directory { get; }

    public FakePluginCatalog Catalog { get; set; } = FakePluginCatalog.WithFakeDevice();

    public string CreateFile(string relativePath, string content = "x")
    {
        string path = Path.Combine(Directory, relativePath);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return path;
    }

    public VmConfigResult Parse(string json) => VmConfig.Parse(json, Directory, _ => Catalog, builtInPluginDirectories: [Directory]);

    /// <summary>The error lines of <paramref name="json"/>.</summary>
    public string[] Errors(string json) => Parse(json).Errors.Select(e => e.ToString()).ToArray();

    /// <summary>The spec of <paramref name="json"/>, failing the test with the errors when it is invalid.</summary>
    public VmSpec Spec(string json)
    {
        VmConfigResult result = Parse(json);
        Assert.True(result.IsValid, string.Join('\n', result.Errors));
        return result.Spec!;
    }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}
