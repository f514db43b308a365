using System.Text.Json;
using System.Text.Json.Nodes;
using Vmm.Contracts.Display;
using Vmm.Core.Control;

namespace Vmm.Core.Display.Control;

/// <summary>
/// <c>display-add-sink</c>: makes a display sink while the VM runs, through its plugin's device factory. Args:
/// <c>{"type":"display-vnc","id":"vnc1","options":{"port":5901},"attach":true,"plugin":"display"}</c>; <c>options</c>,
/// <c>attach</c> (default true) and <c>plugin</c> (default: whichever loaded plugin provides the type) are optional.
/// Result: <c>{"id":"vnc1","type":"display-vnc","attached":true}</c>.
/// </summary>
public sealed class DisplayAddSinkCommand : IControlCommand
{
    private readonly RuntimeDisplaySinks _sinks;

    /// <summary>Creates the command over <paramref name="sinks"/>.</summary>
    public DisplayAddSinkCommand(RuntimeDisplaySinks sinks)
    {
        ArgumentNullException.ThrowIfNull(sinks);
        _sinks = sinks;
    }

    /// <inheritdoc />
    public string Name => "display-add-sink";

    /// <inheritdoc />
    public string Description => "Makes a display sink {\"type\",\"id\",\"options\"} while the VM runs and attaches it (unless \"attach\":false).";

    /// <inheritdoc />
    public ValueTask<JsonNode?> ExecuteAsync(JsonElement args, CancellationToken cancellationToken)
    {
        string type = DisplayArgs.RequiredString(args, "type", "a display sink device type string such as \"display-vnc\"");
        string id = DisplayArgs.RequiredString(args, "id", "a device id string");
        bool attach = DisplayArgs.OptionalBool(args, "attach", fallback: true);
        string? plugin = DisplayArgs.OptionalString(args, "plugin", "a plugin name string");
        JsonElement options = default;
        if (args.TryGetProperty("options", out JsonElement value) && value.ValueKind != JsonValueKind.Null)
        {
            options = value.ValueKind == JsonValueKind.Object ? value : throw DisplayArgs.Invalid("options", "expected an object");
        }

        IDisplaySink sink = _sinks.Add(type, id, options, attach, plugin);
        return ValueTask.FromResult<JsonNode?>(new JsonObject { ["id"] = sink.Id, ["type"] = type, ["attached"] = attach });
    }
}
