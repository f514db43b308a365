using Vmm.Contracts.Devices;

namespace Vmm.Core.Tests.Config;

/// <summary>A device type "fake-dev" whose options cover the shapes config errors are reported for.</summary>
internal sealed class FakeDeviceFactory : DeviceFactory<FakeDeviceOptions>
{
    public override string DeviceType => "fake-dev";

    public override string Description => "A device for config tests.";

    /// <summary>When set, <see cref="Validate"/> throws it (a buggy plugin).</summary>
    public Exception? ThrowOnValidate { get; init; }

    protected override void Validate(FakeDeviceOptions options, DeviceOptionsValidationContext context)
    {
        if (ThrowOnValidate is not null)
        {
            throw ThrowOnValidate;
        }

        if (options.Rate > 1000)
        {
            context.AddError("rate", $"expected at most 1000, got {options.Rate}");
        }

        if (options.Modes.Count > 0 && options.Modes[0].Width == 0)
        {
            context.AddError("modes[0].width", "expected a width above 0, got 0");
        }
    }

    protected override IDevice Create(DeviceCreateContext context, FakeDeviceOptions options) => throw new NotSupportedException();
}

internal sealed class FakeDeviceOptions
{
    public int Rate { get; set; } = 10;

    public FakeMode Mode { get; set; } = FakeMode.Fast;

    public string? Label { get; set; }

    public List<FakeDisplayMode> Modes { get; set; } = [];
}

internal enum FakeMode
{
    Fast,
    SlowAndSteady,
}

internal sealed class FakeDisplayMode
{
    public int Width { get; set; }

    public int Height { get; set; }
}
