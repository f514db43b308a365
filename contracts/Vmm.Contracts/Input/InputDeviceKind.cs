namespace Vmm.Contracts.Input;

/// <summary>What a guest input device presents itself as.</summary>
public enum InputDeviceKind
{
    /// <summary>A keyboard with LEDs and auto-repeat.</summary>
    Keyboard,

    /// <summary>A relative pointer.</summary>
    Mouse,

    /// <summary>An absolute pointer whose range matches the display.</summary>
    Tablet,

    /// <summary>A standard Linux gamepad.</summary>
    Gamepad,
}
