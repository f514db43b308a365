using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Logging.Abstractions;
using Vmm.Contracts.Devices;
using Vmm.Core.Config;
using Vmm.Core.Control;
using Vmm.Core.Hosting;
using Vmm.Core.Plugins;
using Vmm.Plugins.VirtioRng;

namespace Vmm.Kvm.Tests.Platform;

/// <summary>Specs and contexts for running the kvm platform in-process.</summary>
internal static class PlatformTestSpecs
{
    public static VmSpec Spec(string kernel, ulong memory = 64ul << 20, string? rngSourceFile = null, string? initrd = null, string commandLine = "", int vcpus = 1)
    {
        List<DeviceSpec> devices = [];
        if (rngSourceFile is not null)
        {
            VirtioRngOptions options = new() { Source = VirtioRngOptions.FileSource, Path = rngSourceFile };
            devices.Add(new DeviceSpec("rng0", "virtio-rng", VirtioRngDeviceFactory.Type, options, new VirtioRngDeviceFactory(), "$.devices[0]"));
        }

        return new VmSpec(new MachineSpec(memory, vcpus, kernel, initrd, commandLine), PlatformKind.Kvm, devices, null, null, Path.GetTempPath());
    }

    public static VmRunContext Context() => new(NullLoggerFactory.Instance, new NoPlugins(), new ControlCommandRegistry());

    /// <summary>A file of 16 known bytes for the rng device to serve.</summary>
    public static (string Path, string Hex) RngSource()
    {
        byte[] bytes = new byte[16];
        Random.Shared.NextBytes(bytes);
        string path = Path.Combine(Directory.CreateTempSubdirectory("vmm-kvm-rng-").FullName, "entropy.bin");
        File.WriteAllBytes(path, bytes);
        return (path, Convert.ToHexStringLower(bytes));
    }

    /// <summary>A ring-3 ELF payload (Vmm note) made of <paramref name="code"/> at 1 MiB.</summary>
    public static string Ring3Payload(byte[] code)
    {
        byte[] image = Boot.SyntheticImages.Elf(address: 0x10_0000, entry: 0x10_0000, notes: Boot.SyntheticImages.Note("Vmm", Vmm.Kvm.Boot.ElfImage.Ring3NoteType, []), code: code);
        string path = Path.Combine(Directory.CreateTempSubdirectory("vmm-kvm-payload-").FullName, "payload.elf");
        File.WriteAllBytes(path, image);
        return path;
    }

    private sealed class NoPlugins : IPluginCatalog
    {
        public IReadOnlyList<PluginInfo> Plugins => [];

        public bool TryGetFactory(string pluginName, string deviceType, [NotNullWhen(true)] out IDeviceFactory? factory)
        {
            factory = null;
            return false;
        }
    }
}
