namespace Vmm.Contracts.Input;

/// <summary>One evdev event (struct virtio_input_event without the padding): type, code and value.</summary>
/// <param name="Type">EV_KEY, EV_REL, EV_ABS, ...; see <see cref="InputEventTypes"/>.</param>
/// <param name="Code">KEY_A, REL_X, ABS_X, ... as in linux/input-event-codes.h.</param>
/// <param name="Value">Press (1), release (0), repeat (2), a movement or an absolute position.</param>
public readonly record struct InputEvent(ushort Type, ushort Code, int Value)
{
    /// <summary>The SYN_REPORT that ends a group of events.</summary>
    public static InputEvent SynReport => new(InputEventTypes.Syn, 0, 0);
}

/// <summary>The evdev event types (linux/input-event-codes.h).</summary>
public static class InputEventTypes
{
    /// <summary>EV_SYN.</summary>
    public const ushort Syn = 0x00;

    /// <summary>EV_KEY.</summary>
    public const ushort Key = 0x01;

    /// <summary>EV_REL.</summary>
    public const ushort Relative = 0x02;

    /// <summary>EV_ABS.</summary>
    public const ushort Absolute = 0x03;

    /// <summary>EV_MSC.</summary>
    public const ushort Misc = 0x04;

    /// <summary>EV_LED.</summary>
    public const ushort Led = 0x11;

    /// <summary>EV_REP.</summary>
    public const ushort Repeat = 0x14;
}
