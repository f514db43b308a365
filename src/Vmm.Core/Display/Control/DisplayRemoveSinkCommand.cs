using System.Text.Json;
using System.Text.Json.Nodes;
using Vmm.Core.Control;

namespace Vmm.Core.Display.Control;

/// <summary>
/// <c>display-remove-sink</c>: detaches and disposes a sink that <c>display-add-sink</c> made (a VNC sink closes its
/// port and clients). Args: <c>{"id":"vnc1"}</c>. Result: <c>{"id":"vnc1","removed":true}</c>.
/// </summary>
public sealed class DisplayRemoveSinkCommand : IControlCommand
{
    private readonly RuntimeDisplaySinks _sinks;

    /// <summary>Creates the command over <paramref name="sinks"/>.</summary>
    public DisplayRemoveSinkCommand(RuntimeDisplaySinks sinks)
    {
        ArgumentNullException.ThrowIfNull(sinks);
        _sinks = sinks;
    }

    /// <inheritdoc />
    public string Name => "display-remove-sink";

    /// <inheritdoc />
    public string Description => "Removes and disposes the display sink {\"id\"} that display-add-sink made.";

    /// <inheritdoc />
    public ValueTask<JsonNode?> ExecuteAsync(JsonElement args, CancellationToken cancellationToken)
    {
        string id = DisplayArgs.RequiredString(args, "id", "a display sink id string");
        _sinks.Remove(id);
        return ValueTask.FromResult<JsonNode?>(new JsonObject { ["id"] = id, ["removed"] = true });
    }
}
