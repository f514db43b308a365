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

        Assert.Equal(
            """
            $.machine.speed: expected one of the members memory, vcpus, kernel, initrd, cmdline, got unknown member 'speed'
            $.machine.memory: expected a size that is a multiple of 2 MiB such as "512M", got "513M"
            $.machine.vcpus: expected an integer from 1 to 255, got string "two"
            $.machine.kernel: file '/no/such/vmlinuz' does not exist
            $.platform: expected one of "auto", "kvm", "qemu", got string "xen"
            $.devices[0].options.colour: expected one of the options rate, mode, label, modes, got unknown member 'colour'
            $.devices[0].options.mode: expected one of "fast", "slowAndSteady", got string "turbo"
            $.devices[2].id: duplicate id 'dev0' (first used at $.devices[0].id)
            $.devices[2].type: plugin 'fake' has no device type 'gpu' (it has: fake-dev)
            $.devices[3].plugin: unknown plugin 'foo' (known: fake, broken)
            $.devices[4].plugin: plugin 'broken' failed to load: Plugin 'broken' targets contract 9.0; this host has 1.0.
            $.devices[5].id: expected a device id such as "rng0", got nothing
            $.devices[5].options: expected an object of device options, got an array
            $.display.source: expected the id of a configured device (configured: dev0, kbd0, x, b), got "gpu0"
            $.display.sinks[1]: expected the id of a configured device (configured: dev0, kbd0, x, b), got "vnc0"
            $.control.socket: expected a Unix socket path, got number 5
            """,
            report);
    }
}
