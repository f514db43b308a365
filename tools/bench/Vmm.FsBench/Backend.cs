using Microsoft.Extensions.Logging.Abstractions;
using Vmm.Bench;
using Vmm.Plugins.VirtioFs;

namespace Vmm.FsBench;

/// <summary>The two vhost-user-fs back-ends: our device in this process, or the C virtiofsd.</summary>
internal static class Backend
{
    public static VhostUserBackend StartOurs(string socketPath, string share)
    {
        var device = new VirtioFsDevice("bench", share, new VirtioFsOptions { Tag = "bench", Cache = VirtioFsOptions.CacheNever }, NullLoggerFactory.Instance, null);
        return VhostUserBackend.InProcess("vmm virtio-fs", socketPath, device);
    }

    public static VhostUserBackend StartVirtiofsd(string binary, string socketPath, string share)
        => VhostUserBackend.Spawn(
            "C virtiofsd 7.2",
            binary,
            socketPath,
            [$"--socket-path={socketPath}", "-o", $"source={share}", "-o", "cache=none", "--thread-pool-size=0"]);
}
