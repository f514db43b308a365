using Vmm.Testing.Golden;
using Xunit;

namespace Vmm.Core.Tests.Config;

/// <summary>The whole report of a config with many mistakes: every error, in order, one line each.</summary>
public sealed class FullReportTests : IDisposable
{
    private readonly ConfigFixture _fixture = new();

    public void Dispose() => _fixture.Dispose();

    internal const string ConfigWithManyMistakes = """
        {
          "machine": { "memory": "513M", "vcpus": "two", "kernel": "/no/such/vmlinuz", "speed": 9 },
          "platform": "xen",
          "plugins": { "optional": ["virtio-input"] },
          "devices": [
            { "id": "dev0", "plugin": "fake", "type": "fake-dev", "options": { "rate": 5000, "mode": "turbo", "colour": 1 } },
            { "id": "kbd0", "plugin": "virtio-input", "type": "virtio-keyboard" },
            { "id": "dev0", "plugin": "fake", "type": "gpu" },
            { "id": "x", "plugin": "foo", "type": "fake-dev" },
            { "id": "b", "plugin": "broken", "type": "broken-dev" },
            { "plugin": "fake", "type": "fake-dev", "options": [] },
          ],
          "display": { "source": "gpu0", "sinks": ["dev0", "vnc0"] },
          "control": { "socket": 5 },
        }
        """;

    internal static FakePluginCatalog Catalog() => FakePluginCatalog.WithFakeDevice().AddFailed("broken", "Plugin 'broken' targets contract 9.0; this host has 1.0.");

    [Fact]
    public void ReportOfAConfigWithManyMistakes()
    {
        _fixture.Catalog = Catalog();

        string report = string.Join('\n', _fixture.Errors(ConfigWithManyMistakes));

        Snapshot.Verify(report);
    }
}
