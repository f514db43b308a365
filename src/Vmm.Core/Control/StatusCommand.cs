using System.Text.Json;
using System.Text.Json.Nodes;
using Vmm.Core.Config;

namespace Vmm.Core.Control;

/// <summary><c>status</c>: the VM's state, platform, uptime, vCPUs, memory and devices.</summary>
public sealed class StatusCommand : IControlCommand
{
    private readonly IControlledVm _vm;

    /// <summary>Creates the command for <paramref name="vm"/>.</summary>
    public StatusCommand(IControlledVm vm)
    {
        ArgumentNullException.ThrowIfNull(vm);
        _vm = vm;
    }

    /// <inheritdoc />
    public string Name => "status";

    /// <inheritdoc />
    public string Description => "The VM's state, platform, uptime, vCPUs, memory and devices.";

    /// <inheritdoc />
    public ValueTask<JsonNode?> ExecuteAsync(JsonElement args, CancellationToken cancellationToken)
    {
        VmStatus status = _vm.GetStatus();
        JsonArray devices = [];
        foreach (DeviceStatus device in status.Devices)
        {
            JsonObject entry = new() { ["id"] = device.Id, ["type"] = device.Type, ["state"] = device.State };
            if (device.Reason is not null)
            {
                entry["reason"] = device.Reason;
            }

            if (device.Options is { } options)
            {
                entry["options"] = JsonSerializer.SerializeToNode(options, options.GetType(), DeviceOptionsSerializer.Options);
            }

            devices.Add(entry);
        }

        JsonObject result = new()
        {
            ["state"] = status.State,
            ["platform"] = status.Platform,
            ["uptimeSeconds"] = Math.Round(status.Uptime.TotalSeconds, 3),
            ["vcpus"] = status.Vcpus,
            ["memoryBytes"] = status.MemoryBytes,
            ["devices"] = devices,
        };
        return ValueTask.FromResult<JsonNode?>(result);
    }
}
