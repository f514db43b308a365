namespace Vmm.Contracts.Devices;

/// <summary>A typed base for <see cref="IDeviceFactory"/>.</summary>
/// <typeparam name="TOptions">The device's options; its property defaults are the device's defaults.</typeparam>
public abstract class DeviceFactory<TOptions> : IDeviceFactory
    where TOptions : class, new()
{
    /// <inheritdoc />
    public abstract string DeviceType { get; }

    /// <inheritdoc />
    public abstract string Description { get; }

    /// <inheritdoc />
    public Type OptionsType => typeof(TOptions);

    /// <summary>Checks options; the default accepts anything.</summary>
    protected virtual void Validate(TOptions options, DeviceOptionsValidationContext context)
    {
    }

    /// <summary>Creates a device from valid options.</summary>
    protected abstract IDevice Create(DeviceCreateContext context, TOptions options);

    void IDeviceFactory.Validate(object options, DeviceOptionsValidationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        Validate(Cast(options), context);
    }

    IDevice IDeviceFactory.Create(DeviceCreateContext context, object options)
    {
        ArgumentNullException.ThrowIfNull(context);
        return Create(context, Cast(options));
    }

    private TOptions Cast(object options) => options as TOptions
        ?? throw new ArgumentException($"Options for '{DeviceType}' must be {typeof(TOptions).Name}.", nameof(options));
}
