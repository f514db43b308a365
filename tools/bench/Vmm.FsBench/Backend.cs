using Microsoft.Extensions.Logging.Abstractions;
using Vmm.Bench;
using Vmm.Plugins.VirtioFs;

namespace Vmm.FsBench;

/// <summary>The two vhost-user-fs back-ends: our device in this process, or the C virtiofsd.</summary>
internal static class Backend
{
    /// <summary>Our device in this process; <paramref name="pollMicroseconds"/> is its <c>requestPollMicroseconds</c> (named in the column).</summary>
    public static VhostUserBackend StartOurs(string socketPath, string share, int requestQueues, int pollMicroseconds)
    {
        var options = new VirtioFsOptions
        {
            Tag = "bench",
            Cache = VirtioFsOptions.CacheNever,
            NumRequestQueues = requestQueues,
            RequestPollMicroseconds = pollMicroseconds,
        };
        var device = new VirtioFsDevice("bench", share, options, NullLoggerFactory.Instance, null);
        return VhostUserBackend.InProcess($"vmm virtio-fs poll {pollMicroseconds} us", socketPath, device);
    }

    /// <summary>The C daemon; <paramref name="threads"/> 0 serves each queue's requests on its queue thread, as for depth 1.</summary>
    public static VhostUserBackend StartVirtiofsd(string binary, string socketPath, string share, int threads = 0)
        => VhostUserBackend.Spawn(
            "C virtiofsd 7.2",
            binary,
            socketPath,
            [$"--socket-path={socketPath}", "-o", $"source={share}", "-o", "cache=none", "-o", "log_level=warn", $"--thread-pool-size={threads}"],
            stderrPrefix: "virtiofsd",
            stderrShown: line => !line.Contains("Unexpected poll revents", StringComparison.Ordinal)); // its goodbye when the front-end hangs up
}
