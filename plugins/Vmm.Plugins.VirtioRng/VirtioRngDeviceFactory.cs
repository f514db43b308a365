using Vmm.Contracts.Devices;
using Vmm.Plugins.VirtioRng.Entropy;

namespace Vmm.Plugins.VirtioRng;

/// <summary>Builds <see cref="VirtioRngDevice"/>s from <see cref="VirtioRngOptions"/>.</summary>
public sealed class VirtioRngDeviceFactory : DeviceFactory<VirtioRngOptions>
{
    /// <summary>The device type VM configs name.</summary>
    public const string Type = "virtio-rng";

    /// <inheritdoc />
    public override string DeviceType => Type;

    /// <inheritdoc />
    public override string Description => "Entropy device (virtio-rng) fed by the host's RNG or a file, with an optional rate limit.";

    /// <inheritdoc />
    protected override void Validate(VirtioRngOptions options, DeviceOptionsValidationContext context)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(context);
        switch (options.Source)
        {
            case VirtioRngOptions.OsSource:
                if (options.Path is not null)
                {
                    context.AddError("path", $"is only used when source is \"{VirtioRngOptions.FileSource}\".");
                }

                break;
            case VirtioRngOptions.FileSource:
                if (string.IsNullOrWhiteSpace(options.Path))
                {
                    context.AddError("path", $"is required when source is \"{VirtioRngOptions.FileSource}\" (for example /dev/urandom).");
                }
                else if (!File.Exists(context.ResolvePath(options.Path)))
                {
                    context.AddError("path", $"'{context.ResolvePath(options.Path)}' does not exist.");
                }

                break;
            default:
                context.AddError("source", $"must be \"{VirtioRngOptions.OsSource}\" or \"{VirtioRngOptions.FileSource}\", not \"{options.Source}\".");
                break;
        }

        if (options.MaxBytesPerPeriod < 0)
        {
            context.AddError("maxBytesPerPeriod", $"must be 0 (unlimited) or more, not {options.MaxBytesPerPeriod}.");
        }

        if (options.PeriodMs <= 0)
        {
            context.AddError("periodMs", $"must be at least 1, not {options.PeriodMs}.");
        }
    }

    /// <inheritdoc />
    protected override IDevice Create(DeviceCreateContext context, VirtioRngOptions options)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(options);
        IEntropySource source = options.Source == VirtioRngOptions.FileSource
            ? new FileEntropySource(Path.GetFullPath(options.Path!, context.BaseDirectory))
            : new OsEntropySource();
        var timeProvider = context.Services.GetService(typeof(TimeProvider)) as TimeProvider;
        return new VirtioRngDevice(
            context.Id,
            source,
            options.MaxBytesPerPeriod,
            TimeSpan.FromMilliseconds(options.PeriodMs),
            context.LoggerFactory,
            context.MeterFactory,
            timeProvider ?? TimeProvider.System);
    }
}
