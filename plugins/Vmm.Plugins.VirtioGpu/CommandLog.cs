using Microsoft.Extensions.Logging;

namespace Vmm.Plugins.VirtioGpu;

/// <summary>What the device's parts say about the guest's commands: one funnel for refusals, tagged with the device id.</summary>
internal sealed class CommandLog(ILogger logger, string deviceId)
{
    public ILogger Logger => logger;

    public string DeviceId => deviceId;

    /// <summary>Logs why <paramref name="header"/>'s command is refused and returns <paramref name="response"/> (a VIRTIO_GPU_RESP_ERR_*).</summary>
    public uint Reject(GpuControlHeader header, uint response, string reason)
    {
        VirtioGpuLog.CommandRejected(logger, deviceId, header.Type, response, reason);
        return response;
    }

    /// <summary>A cursor command that does nothing (the cursor queue has no error replies).</summary>
    public void CursorIgnored(string reason) => VirtioGpuLog.CursorCommandIgnored(logger, deviceId, reason);

    public void SinkFailed(Exception exception) => VirtioGpuLog.SinkFailed(logger, deviceId, exception);

    public void ScanoutSet(uint scanout, uint resourceId, GpuRect rect) => VirtioGpuLog.ScanoutSet(logger, deviceId, scanout, resourceId, rect.Width, rect.Height);
}
