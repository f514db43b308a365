using System.Text.Json;
using System.Text.Json.Nodes;

namespace Vmm.Core.Control;

/// <summary><c>stop</c>: asks the VM to stop. The reply comes before the VM (and this server) goes away.</summary>
public sealed class StopCommand : IControlCommand
{
    private readonly IControlledVm _vm;

    /// <summary>Creates the command for <paramref name="vm"/>.</summary>
    public StopCommand(IControlledVm vm)
    {
        ArgumentNullException.ThrowIfNull(vm);
        _vm = vm;
    }

    /// <inheritdoc />
    public string Name => "stop";

    /// <inheritdoc />
    public string Description => "Stops the VM.";

    /// <inheritdoc />
    public ValueTask<JsonNode?> ExecuteAsync(JsonElement args, CancellationToken cancellationToken)
    {
        _vm.RequestStop();
        return ValueTask.FromResult<JsonNode?>(new JsonObject { ["stopping"] = true });
    }
}
