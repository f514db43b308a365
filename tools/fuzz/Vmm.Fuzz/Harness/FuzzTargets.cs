using Vmm.Fuzz.Targets;

namespace Vmm.Fuzz.Harness;

/// <summary>Every target by name, made on demand (each sets up only what it needs).</summary>
public static class FuzzTargets
{
    private static readonly Dictionary<string, Func<FuzzTarget>> s_targets = new(StringComparer.Ordinal)
    {
        ["virtqueue"] = () => new VirtqueueTarget(),
        ["config"] = () => new ConfigTarget(),
        ["control"] = () => new ControlTarget(),
        ["loader"] = () => new LoaderTarget(),
        ["pci"] = () => new PciTarget(),
        ["virtio-input"] = () => new VirtioInputTarget(),
        ["vhost-user"] = () => new VhostUserTarget(),
        ["rfb"] = () => new RfbTarget(),
        ["lgmp"] = () => new LgmpTarget(),
        ["virtio-fs"] = () => new VirtioFsTarget(),
        ["virtio-gpu"] = () => new VirtioGpuTarget(),
    };

    /// <summary>The target names.</summary>
    public static IReadOnlyCollection<string> Names => s_targets.Keys;

    /// <summary>Makes the target called <paramref name="name"/>, or returns null for an unknown name.</summary>
    public static FuzzTarget? Create(string name) => s_targets.TryGetValue(name, out Func<FuzzTarget>? create) ? create() : null;
}
