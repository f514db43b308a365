using System.Text.Json;
using System.Text.Json.Nodes;
using Vmm.Contracts.Input;
using Vmm.Core.Control;

namespace Vmm.Core.Input;

/// <summary>
/// <c>input</c>: sends evdev events to a guest input device.
/// Args: <c>{"kind":"keyboard","device":"kbd0","events":[{"type":"key","code":30,"value":1}, ...]}</c>; <c>device</c>
/// is optional (the first device of the kind), <c>type</c> is a number or one of syn, key, rel, abs, msc, led, rep,
/// and a trailing SYN_REPORT is added when missing. Result: <c>{"device":"kbd0","events":N}</c>.
/// </summary>
public sealed class ControlInputCommand : IControlCommand
{
    /// <summary>The error code when no guest device matches.</summary>
    public const string NoInputDeviceCode = "no-input-device";

    /// <summary>The most events one request may carry.</summary>
    public const int MaxEvents = 1024;

    private const int MaxCode = 0x2FF;
    private const int MaxType = 0x1F;

    private readonly InputRouter _router;

    /// <summary>Creates the command over <paramref name="router"/>.</summary>
    public ControlInputCommand(InputRouter router)
    {
        ArgumentNullException.ThrowIfNull(router);
        _router = router;
    }

    /// <inheritdoc />
    public string Name => "input";

    /// <inheritdoc />
    public string Description => "Sends key, pointer or gamepad events to a guest input device.";

    /// <inheritdoc />
    public ValueTask<JsonNode?> ExecuteAsync(JsonElement args, CancellationToken cancellationToken)
    {
        if (!args.TryGetProperty("kind", out JsonElement kindValue) || kindValue.ValueKind != JsonValueKind.String
            || !InputDeviceKindNames.TryParse(kindValue.GetString(), out InputDeviceKind kind))
        {
            throw Invalid("kind", "expected \"keyboard\", \"mouse\", \"tablet\" or \"gamepad\"");
        }

        string? deviceId = null;
        if (args.TryGetProperty("device", out JsonElement deviceValue) && deviceValue.ValueKind != JsonValueKind.Null)
        {
            if (deviceValue.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(deviceValue.GetString()))
            {
                throw Invalid("device", "expected a device id string");
            }

            deviceId = deviceValue.GetString();
        }

        InputEvent[] events = ReadEvents(args);
        IInputTarget target = _router.FindTarget(kind, deviceId)
            ?? throw new ControlCommandException(NoInputDeviceCode, deviceId is null
                ? $"the VM has no {InputDeviceKindNames.ToName(kind)} input device"
                : $"the VM has no {InputDeviceKindNames.ToName(kind)} input device with id '{deviceId}'");
        if (!_router.Publish(kind, events, target.Id))
        {
            throw new ControlCommandException(ControlErrorCodes.InvalidState, $"input device '{target.Id}' did not take the events (see the log)");
        }

        return ValueTask.FromResult<JsonNode?>(new JsonObject { ["device"] = target.Id, ["events"] = events.Length });
    }

    private static InputEvent[] ReadEvents(JsonElement args)
    {
        if (!args.TryGetProperty("events", out JsonElement list) || list.ValueKind != JsonValueKind.Array)
        {
            throw Invalid("events", "expected an array of {\"type\",\"code\",\"value\"} objects");
        }

        int count = list.GetArrayLength();
        if (count is 0 or > MaxEvents)
        {
            throw Invalid("events", $"expected 1 to {MaxEvents} events, got {count}");
        }

        var events = new InputEvent[count];
        int index = 0;
        foreach (JsonElement item in list.EnumerateArray())
        {
            string path = $"events[{index}]";
            if (item.ValueKind != JsonValueKind.Object)
            {
                throw Invalid(path, "expected an object");
            }

            ushort type = ReadType(item, path);
            ushort code = (ushort)ReadInt(item, "code", path, 0, MaxCode);
            int value = item.TryGetProperty("value", out _) ? ReadInt(item, "value", path, int.MinValue, int.MaxValue) : 0;
            events[index++] = new InputEvent(type, code, value);
        }

        return events;
    }

    private static ushort ReadType(JsonElement item, string path)
    {
        if (item.TryGetProperty("type", out JsonElement type) && type.ValueKind == JsonValueKind.String)
        {
            return type.GetString() switch
            {
                "syn" => InputEventTypes.Syn,
                "key" => InputEventTypes.Key,
                "rel" => InputEventTypes.Relative,
                "abs" => InputEventTypes.Absolute,
                "msc" => InputEventTypes.Misc,
                "led" => InputEventTypes.Led,
                "rep" => InputEventTypes.Repeat,
                _ => throw Invalid(path + ".type", "expected a number or one of syn, key, rel, abs, msc, led, rep"),
            };
        }

        return (ushort)ReadInt(item, "type", path, 0, MaxType);
    }

    private static int ReadInt(JsonElement item, string member, string path, int minimum, int maximum)
    {
        if (!item.TryGetProperty(member, out JsonElement value) || value.ValueKind != JsonValueKind.Number
            || !value.TryGetInt64(out long number) || number < minimum || number > maximum)
        {
            throw Invalid($"{path}.{member}", $"expected an integer from {minimum} to {maximum}");
        }

        return (int)number;
    }

    private static ControlCommandException Invalid(string path, string message) =>
        new(ControlErrorCodes.InvalidArguments, $"args.{path}: {message}");
}
