using Vmm.Contracts.Devices;
using Vmm.Contracts.Gpu;

namespace Vmm.Plugins.VirtioGpu;

/// <summary>Builds <see cref="VirtioGpuDevice"/>s from <see cref="VirtioGpuOptions"/>.</summary>
public sealed class VirtioGpuDeviceFactory : DeviceFactory<VirtioGpuOptions>
{
    /// <summary>The device type VM configs name.</summary>
    public const string Type = "virtio-gpu";

    /// <inheritdoc />
    public override string DeviceType => Type;

    /// <inheritdoc />
    public override string Description => "GPU (virtio-gpu): 2D resources, blob resources with a host-visible window, EDID, cursor and configurable scanouts; a display source.";

    /// <inheritdoc />
    protected override void Validate(VirtioGpuOptions options, DeviceOptionsValidationContext context)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(context);
        if (options.Scanouts is null || options.Scanouts.Count is 0 or > VirtioGpuOptions.MaxScanouts)
        {
            context.AddError("scanouts", $"must list 1 to {VirtioGpuOptions.MaxScanouts} modes (a Linux 6.1 guest refuses a GPU without scanouts).");
        }
        else
        {
            for (int i = 0; i < options.Scanouts.Count; i++)
            {
                VirtioGpuModeOptions mode = options.Scanouts[i];
                if (mode.Width is < 16 or > VirtioGpuOptions.MaxModeDimension)
                {
                    context.AddError($"scanouts[{i}].width", $"must be 16 to {VirtioGpuOptions.MaxModeDimension}, not {mode.Width}.");
                }

                if (mode.Height is < 16 or > VirtioGpuOptions.MaxModeDimension)
                {
                    context.AddError($"scanouts[{i}].height", $"must be 16 to {VirtioGpuOptions.MaxModeDimension}, not {mode.Height}.");
                }
            }
        }

        if (options.MaxResources < 1)
        {
            context.AddError("maxResources", $"must be at least 1, not {options.MaxResources}.");
        }

        if (options.MaxResourceBytes < 1 << 20)
        {
            context.AddError("maxResourceBytes", $"must be at least 1 MiB, not {options.MaxResourceBytes}.");
        }

        if (options.MaxBackingEntries is < 1 or > 1 << 20)
        {
            context.AddError("maxBackingEntries", $"must be 1 to {1 << 20}, not {options.MaxBackingEntries}.");
        }

        if (options.HostVisibleWindowSize % VirtioGpuOptions.HostVisibleWindowAlignment != 0 || options.HostVisibleWindowSize > VirtioGpuOptions.MaxHostVisibleWindowSize)
        {
            context.AddError("hostVisibleWindowSize", $"must be 0 (none) or a multiple of 2 MiB (2097152) up to {VirtioGpuOptions.MaxHostVisibleWindowSize}, not {options.HostVisibleWindowSize}.");
        }
        else if (options.HostVisibleWindowSize != 0 && !options.ResourceBlob)
        {
            context.AddError("hostVisibleWindowSize", "needs resourceBlob: only blobs are mapped into the window.");
        }
    }

    /// <inheritdoc />
    protected override IDevice Create(DeviceCreateContext context, VirtioGpuOptions options)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(options);
        var contextTypes = context.Services.GetService(typeof(IEnumerable<IGpuContextType>)) as IEnumerable<IGpuContextType>;
        return new VirtioGpuDevice(context.Id, options, context.LoggerFactory, context.MeterFactory, contextTypes);
    }
}
