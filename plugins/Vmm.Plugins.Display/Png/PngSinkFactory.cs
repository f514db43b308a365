using Vmm.Contracts.Devices;

namespace Vmm.Plugins.Display.Png;

/// <summary>Builds <see cref="PngSink"/>s.</summary>
public sealed class PngSinkFactory : DeviceFactory<PngSinkOptions>
{
    /// <summary>The device type VM configs name.</summary>
    public const string Type = "display-png";

    /// <inheritdoc />
    public override string DeviceType => Type;

    /// <inheritdoc />
    public override string Description => "Display sink that keeps the last frame and writes PNG snapshots.";

    /// <inheritdoc />
    protected override void Validate(PngSinkOptions options, DeviceOptionsValidationContext context)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(context);
        if (options.PathOnExit is { } path && !Directory.Exists(Path.GetDirectoryName(context.ResolvePath(path))))
        {
            context.AddError("pathOnExit", $"the folder of '{context.ResolvePath(path)}' does not exist.");
        }
    }

    /// <inheritdoc />
    protected override IDevice Create(DeviceCreateContext context, PngSinkOptions options)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(options);
        string? path = options.PathOnExit is null ? null : Path.GetFullPath(options.PathOnExit, context.BaseDirectory);
        return new PngSink(context.Id, path, context.LoggerFactory);
    }
}
