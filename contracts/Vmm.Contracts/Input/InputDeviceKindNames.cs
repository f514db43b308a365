namespace Vmm.Contracts.Input;

/// <summary>
/// The lower-case names configs and the control API use for <see cref="InputDeviceKind"/>; one spelling shared by the
/// host and every plugin (contract 1.1).
/// </summary>
public static class InputDeviceKindNames
{
    /// <summary>Reads <c>keyboard</c>, <c>mouse</c>, <c>tablet</c> or <c>gamepad</c>.</summary>
    public static bool TryParse(string? text, out InputDeviceKind kind)
    {
        switch (text)
        {
            case "keyboard":
                kind = InputDeviceKind.Keyboard;
                return true;
            case "mouse":
                kind = InputDeviceKind.Mouse;
                return true;
            case "tablet":
                kind = InputDeviceKind.Tablet;
                return true;
            case "gamepad":
                kind = InputDeviceKind.Gamepad;
                return true;
            default:
                kind = default;
                return false;
        }
    }

    /// <summary>The names, in declaration order, for messages that list them.</summary>
    public static IReadOnlyList<string> All { get; } = ["keyboard", "mouse", "tablet", "gamepad"];

    /// <summary>The name of <paramref name="kind"/>.</summary>
    public static string ToName(InputDeviceKind kind) => kind switch
    {
        InputDeviceKind.Keyboard => "keyboard",
        InputDeviceKind.Mouse => "mouse",
        InputDeviceKind.Tablet => "tablet",
        InputDeviceKind.Gamepad => "gamepad",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };
}
