using System.Globalization;
using Vmm.Contracts.Devices;

namespace Vmm.Plugins.Display.TestPattern;

/// <summary>Builds <see cref="TestPatternSource"/>s.</summary>
public sealed class TestPatternSourceFactory : DeviceFactory<TestPatternOptions>
{
    /// <summary>The device type VM configs name.</summary>
    public const string Type = "display-test-pattern";

    // Big enough for any real monitor, small enough that a typo cannot ask for gigabytes.
    private const int MaxSide = 8192;

    /// <inheritdoc />
    public override string DeviceType => Type;

    /// <inheritdoc />
    public override string Description => "Display source showing a fixed picture (colour bars or one colour) at a chosen size; a second source to switch to.";

    /// <summary>Reads <c>#rrggbb</c>; false when <paramref name="text"/> is not that.</summary>
    internal static bool TryParseColor(string text, out (byte R, byte G, byte B) color)
    {
        color = default;
        if (text is not ['#', .. { Length: 6 } hex] || !int.TryParse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int value))
        {
            return false;
        }

        color = ((byte)(value >> 16), (byte)(value >> 8), (byte)value);
        return true;
    }

    /// <inheritdoc />
    protected override void Validate(TestPatternOptions options, DeviceOptionsValidationContext context)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(context);
        if (options.Width is < 1 or > MaxSide)
        {
            context.AddError("width", $"must be 1 to {MaxSide}, not {options.Width}.");
        }

        if (options.Height is < 1 or > MaxSide)
        {
            context.AddError("height", $"must be 1 to {MaxSide}, not {options.Height}.");
        }

        if (!TryParseColor(options.Color, out _))
        {
            context.AddError("color", $"expected #rrggbb (six hex digits), not '{options.Color}'.");
        }
    }

    /// <inheritdoc />
    protected override IDevice Create(DeviceCreateContext context, TestPatternOptions options)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(options);
        _ = TryParseColor(options.Color, out (byte R, byte G, byte B) color);
        return new TestPatternSource(context.Id, options.Width, options.Height, options.Pattern, color);
    }
}
