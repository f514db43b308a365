using System.Net.Sockets;
using System.Text.Json;
using Vmm.Core.Control;

namespace Vmm.Cli.Exec;

/// <summary>Finds a running VM's virtio-vsock socket through its control socket (the <c>status</c> reply's device options).</summary>
internal static class ExecEndpoint
{
    /// <summary>The device type whose <c>uds</c> option is the hybrid vsock socket.</summary>
    public const string VsockDeviceType = "virtio-vsock";

    /// <summary>The <c>uds</c> of the VM's (first, or <paramref name="deviceId"/>) virtio-vsock device.</summary>
    /// <exception cref="ExecException">No control socket answers, or the VM has no such device.</exception>
    public static async Task<string> FindUdsAsync(string controlSocket, string? deviceId, CancellationToken cancellationToken)
    {
        ControlResponse reply;
        try
        {
            await using ControlClient client = await ControlClient.ConnectAsync(controlSocket, cancellationToken).ConfigureAwait(false);
            reply = await client.SendAsync("status", null, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or IOException or JsonException)
        {
            throw new ExecException($"control socket '{controlSocket}': {Commands.ControlSocketFailure.Describe(controlSocket, ex)}", ex);
        }

        if (!reply.Ok || reply.Result.ValueKind != JsonValueKind.Object || !reply.Result.TryGetProperty("devices", out JsonElement devices))
        {
            throw new ExecException($"control socket '{controlSocket}': status failed: {reply.ErrorMessage ?? reply.Json}");
        }

        foreach (JsonElement device in devices.EnumerateArray())
        {
            if (device.TryGetProperty("type", out JsonElement type) && type.ValueEquals(VsockDeviceType)
                && (deviceId is null || (device.TryGetProperty("id", out JsonElement id) && id.ValueEquals(deviceId)))
                && device.TryGetProperty("options", out JsonElement options)
                && options.TryGetProperty("uds", out JsonElement uds) && uds.GetString() is { Length: > 0 } path)
            {
                return path;
            }
        }

        throw new ExecException(deviceId is null
            ? $"the VM at '{controlSocket}' has no {VsockDeviceType} device (add one to its config to use vmm exec)"
            : $"the VM at '{controlSocket}' has no {VsockDeviceType} device '{deviceId}'");
    }
}
