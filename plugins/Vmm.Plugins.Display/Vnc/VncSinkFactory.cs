using System.Net;
using Vmm.Contracts.Devices;
using Vmm.Contracts.Input;

namespace Vmm.Plugins.Display.Vnc;

/// <summary>Builds <see cref="VncSink"/>s.</summary>
public sealed class VncSinkFactory : DeviceFactory<VncSinkOptions>
{
    /// <summary>The device type VM configs name.</summary>
    public const string Type = "display-vnc";

    /// <inheritdoc />
    public override string DeviceType => Type;

    /// <inheritdoc />
    public override string Description => "Display sink serving RFB 3.8 (VNC, security None) with Raw, ZRLE, cursor and desktop-size; input goes to the input router.";

    /// <inheritdoc />
    protected override void Validate(VncSinkOptions options, DeviceOptionsValidationContext context)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(context);
        if (!IPAddress.TryParse(options.Listen, out _))
        {
            context.AddError("listen", $"'{options.Listen}' is not an IP address.");
        }

        if (options.Port is < 0 or > 65535)
        {
            context.AddError("port", $"must be 0 to 65535, not {options.Port}.");
        }
    }

    /// <inheritdoc />
    protected override IDevice Create(DeviceCreateContext context, VncSinkOptions options)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(options);
        var input = context.Services.GetService(typeof(IInputRouter)) as IInputRouter;
        return new VncSink(context.Id, new IPEndPoint(IPAddress.Parse(options.Listen), options.Port), options.DesktopName, input, context.LoggerFactory);
    }
}
