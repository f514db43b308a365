using System.Text.Json;
using System.Text.Json.Nodes;
using Vmm.Core.Control;

namespace Vmm.Core.Display.Control;

/// <summary>
/// The commands that rewire the display router by id, args <c>{"id":"..."}</c>: <c>display-switch-source</c>,
/// <c>display-attach-sink</c> and <c>display-detach-sink</c>. Result: <c>{"activeSource":"...","attachedSinks":[...]}</c>.
/// </summary>
public sealed class DisplayTopologyCommand : IControlCommand
{
    private readonly DisplayRouter _router;
    private readonly Action<DisplayRouter, string> _apply;
    private readonly string _missingCode;
    private readonly Func<DisplayRouter, IEnumerable<string>> _known;

    private DisplayTopologyCommand(
        string name,
        string description,
        DisplayRouter router,
        Action<DisplayRouter, string> apply,
        string missingCode,
        Func<DisplayRouter, IEnumerable<string>> known)
    {
        ArgumentNullException.ThrowIfNull(router);
        Name = name;
        Description = description;
        _router = router;
        _apply = apply;
        _missingCode = missingCode;
        _known = known;
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public string Description { get; }

    /// <summary><c>display-switch-source</c>: makes a source the active one; every attached sink gets its mode and a full frame.</summary>
    public static DisplayTopologyCommand SwitchSource(DisplayRouter router) => new(
        "display-switch-source",
        "Makes the display source {\"id\"} the active one; attached sinks show it from its next full frame.",
        router,
        (r, id) => r.SwitchSource(id),
        DisplayArgs.NoSuchSourceCode,
        r => r.Sources.Select(s => s.Id));

    /// <summary><c>display-attach-sink</c>: attaches a registered sink to the active source.</summary>
    public static DisplayTopologyCommand AttachSink(DisplayRouter router) => new(
        "display-attach-sink",
        "Attaches the display sink {\"id\"} to the active source.",
        router,
        (r, id) => r.AttachSink(id),
        DisplayArgs.NoSuchSinkCode,
        VisibleSinks);

    /// <summary><c>display-detach-sink</c>: detaches a sink; it stays registered and can be attached again.</summary>
    public static DisplayTopologyCommand DetachSink(DisplayRouter router) => new(
        "display-detach-sink",
        "Detaches the display sink {\"id\"}; it keeps its clients and can be attached again.",
        router,
        (r, id) =>
        {
            if (!VisibleSinks(r).Contains(id, StringComparer.Ordinal))
            {
                throw new KeyNotFoundException($"No display sink with id '{id}'.");
            }

            r.DetachSink(id);
        },
        DisplayArgs.NoSuchSinkCode,
        VisibleSinks);

    /// <inheritdoc />
    public ValueTask<JsonNode?> ExecuteAsync(JsonElement args, CancellationToken cancellationToken)
    {
        string id = DisplayArgs.RequiredString(args, "id", "a display device id string");
        if (RuntimeDisplaySinks.IsHidden(id))
        {
            throw Missing(id);
        }

        try
        {
            _apply(_router, id);
        }
        catch (KeyNotFoundException)
        {
            throw Missing(id);
        }

        JsonArray sinks = [.. _router.SinkIds.Where(s => !RuntimeDisplaySinks.IsHidden(s)).Select(s => (JsonNode?)JsonValue.Create(s))];
        return ValueTask.FromResult<JsonNode?>(new JsonObject { ["activeSource"] = _router.ActiveSourceId, ["attachedSinks"] = sinks });
    }

    private static IEnumerable<string> VisibleSinks(DisplayRouter router) =>
        router.Sinks.Select(s => s.Id).Where(id => !RuntimeDisplaySinks.IsHidden(id));

    private ControlCommandException Missing(string id)
    {
        string kind = _missingCode == DisplayArgs.NoSuchSourceCode ? "source" : "sink";
        return new ControlCommandException(_missingCode, $"the VM has no display {kind} with id '{id}' ({kind}s: {DisplayArgs.List(_known(_router))})");
    }
}
