using System.Text.Json;
using System.Text.Json.Nodes;
using Vmm.Contracts.Display;
using Vmm.Core.Control;

namespace Vmm.Core.Display.Control;

/// <summary>
/// <c>display</c>: the display router's sources and sinks with their state. Result:
/// <c>{"activeSource":"gpu0","sources":[{"id":"gpu0","type":"virtio-gpu","active":true,"mode":{"width":1280,"height":800,"format":"B8G8R8X8"}}],
/// "sinks":[{"id":"vnc0","type":"display-vnc","attached":true,"origin":"config"}]}</c>; <c>mode</c> is null before
/// the source has one, <c>origin</c> is <c>config</c> or <c>control</c> (added by <c>display-add-sink</c>); a sink the
/// router detached because it threw also has <c>failed</c>: what it threw.
/// </summary>
public sealed class DisplayListCommand : IControlCommand
{
    private readonly DisplayRouter _router;
    private readonly RuntimeDisplaySinks _devices;

    /// <summary>Creates the command over <paramref name="router"/>, naming device types through <paramref name="devices"/>.</summary>
    public DisplayListCommand(DisplayRouter router, RuntimeDisplaySinks devices)
    {
        ArgumentNullException.ThrowIfNull(router);
        ArgumentNullException.ThrowIfNull(devices);
        _router = router;
        _devices = devices;
    }

    /// <inheritdoc />
    public string Name => "display";

    /// <inheritdoc />
    public string Description => "Lists the display sources and sinks with their state (active, attached, mode).";

    /// <inheritdoc />
    public ValueTask<JsonNode?> ExecuteAsync(JsonElement args, CancellationToken cancellationToken)
    {
        string? active = _router.ActiveSourceId;
        IReadOnlyList<string> attached = _router.SinkIds;
        JsonArray sources = [];
        foreach (IDisplaySource source in _router.Sources)
        {
            sources.Add(new JsonObject
            {
                ["id"] = source.Id,
                ["type"] = _devices.TypeOf(source.Id),
                ["active"] = source.Id == active,
                ["mode"] = source.CurrentMode is { } mode ? ModeJson(mode) : null,
            });
        }

        JsonArray sinks = [];
        foreach (IDisplaySink sink in _router.Sinks.Where(s => !RuntimeDisplaySinks.IsHidden(s.Id)))
        {
            JsonObject entry = new()
            {
                ["id"] = sink.Id,
                ["type"] = _devices.TypeOf(sink.Id),
                ["attached"] = attached.Contains(sink.Id),
                ["origin"] = _devices.IsRuntimeSink(sink.Id) ? "control" : "config",
            };
            if (_router.SinkFailure(sink.Id) is string failure)
            {
                entry["failed"] = failure;
            }

            sinks.Add(entry);
        }

        return ValueTask.FromResult<JsonNode?>(new JsonObject { ["activeSource"] = active, ["sources"] = sources, ["sinks"] = sinks });
    }

    private static JsonObject ModeJson(DisplayMode mode) =>
        new() { ["width"] = mode.Width, ["height"] = mode.Height, ["format"] = mode.Format.ToString() };
}
