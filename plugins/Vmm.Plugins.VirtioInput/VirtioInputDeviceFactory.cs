using System.Text;
using Vmm.Contracts.Devices;
using Vmm.Contracts.Input;
using Vmm.Plugins.VirtioInput.Config;

namespace Vmm.Plugins.VirtioInput;

/// <summary>Builds <see cref="VirtioInputDevice"/>s from <see cref="VirtioInputOptions"/>.</summary>
public sealed class VirtioInputDeviceFactory : DeviceFactory<VirtioInputOptions>
{
    /// <summary>The device type VM configs name.</summary>
    public const string Type = "virtio-input";

    /// <summary>The smallest queue bound: room for a few whole frames.</summary>
    public const int MinQueueBound = 16;

    /// <summary>The largest queue bound.</summary>
    public const int MaxQueueBound = 65536;

    /// <summary>The largest tablet width or height.</summary>
    public const int MaxDisplaySize = 32768;

    /// <inheritdoc />
    public override string DeviceType => Type;

    /// <inheritdoc />
    public override string Description => "virtio-input keyboard, mouse, tablet or gamepad, fed by the host's input router.";

    /// <inheritdoc />
    protected override void Validate(VirtioInputOptions options, DeviceOptionsValidationContext context)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(context);
        bool known = InputDeviceKindNames.TryParse(options.Kind, out InputDeviceKind kind);
        if (!known)
        {
            context.AddError("kind", $"must be \"keyboard\", \"mouse\", \"tablet\" or \"gamepad\", not \"{options.Kind}\".");
        }

        ValidateString(context, "name", options.Name);
        ValidateString(context, "serial", options.Serial);
        if (known && kind != InputDeviceKind.Tablet)
        {
            if (options.Width != 0)
            {
                context.AddError("width", "is only used when kind is \"tablet\".");
            }

            if (options.Height != 0)
            {
                context.AddError("height", "is only used when kind is \"tablet\".");
            }
        }
        else
        {
            ValidateDisplaySize(context, "width", options.Width);
            ValidateDisplaySize(context, "height", options.Height);
            if ((options.Width == 0) != (options.Height == 0))
            {
                context.AddError(options.Width == 0 ? "width" : "height", "must be given together with the other display dimension (or both left out).");
            }
        }

        if (options.QueueBound is < MinQueueBound or > MaxQueueBound)
        {
            context.AddError("queueBound", $"must be from {MinQueueBound} to {MaxQueueBound}, not {options.QueueBound}.");
        }
    }

    /// <inheritdoc />
    protected override IDevice Create(DeviceCreateContext context, VirtioInputOptions options)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(options);
        if (!InputDeviceKindNames.TryParse(options.Kind, out InputDeviceKind kind))
        {
            throw new ArgumentException($"Unknown virtio-input kind '{options.Kind}'.", nameof(options));
        }

        InputDeviceProfile profile = InputDeviceProfiles.Create(kind, options.Name, options.Serial, options.Width, options.Height);

        // The router is optional: without one the device still works, it just gets no input.
        var router = context.Services.GetService(typeof(IInputRouter)) as IInputRouter;
        return new VirtioInputDevice(context.Id, profile, options.QueueBound, router, context.LoggerFactory, context.MeterFactory);
    }

    private static void ValidateString(DeviceOptionsValidationContext context, string member, string? value)
    {
        if (value is null)
        {
            return;
        }

        if (value.Contains('\0', StringComparison.Ordinal))
        {
            context.AddError(member, "must not contain NUL characters.");
        }

        int bytes = Encoding.UTF8.GetByteCount(value);
        if (bytes > InputDeviceProfile.MaxStringBytes)
        {
            context.AddError(member, $"is {bytes} UTF-8 bytes; at most {InputDeviceProfile.MaxStringBytes} fit (Linux copies 64 bytes with the NUL).");
        }
    }

    private static void ValidateDisplaySize(DeviceOptionsValidationContext context, string member, int value)
    {
        if (value is < 0 or > MaxDisplaySize)
        {
            context.AddError(member, $"must be 0 (QEMU's 0..32767 range) or from 1 to {MaxDisplaySize}, not {value}.");
        }
    }
}
