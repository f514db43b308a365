using Vmm.Contracts.Devices;
using Vmm.Contracts.Files;
using Vmm.Plugins.CrossDomain.Host;

namespace Vmm.Plugins.CrossDomain;

/// <summary>
/// Builds the <c>cross-domain</c> device: nothing the guest sees on its own, it sets the display sockets the
/// cross-domain context type (offered through virtio-gpu) may connect to, and hands it the export tables the VM's
/// other plugins share (virtio-fs: the files FUTEX_NEW maps).
/// </summary>
internal sealed class CrossDomainDeviceFactory(CrossDomainSettings settings) : DeviceFactory<CrossDomainOptions>
{
    /// <summary>The device type VM configs name.</summary>
    public const string Type = "cross-domain";

    /// <inheritdoc />
    public override string DeviceType => Type;

    /// <inheritdoc />
    public override string Description => "Cross-domain channels (virtio-gpu capset 5, libkrun dialect): the host X11 and Wayland sockets guest clients are forwarded to.";

    /// <inheritdoc />
    protected override void Validate(CrossDomainOptions options, DeviceOptionsValidationContext context)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(context);
        Resolve(options, (member, problem) => context.AddError(member, problem));
    }

    /// <inheritdoc />
    protected override IDevice Create(DeviceCreateContext context, CrossDomainOptions options)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(options);
        (DisplaySocket? x11, DisplaySocket? wayland) = Resolve(options, (member, problem) => throw new ArgumentException($"{member}: {problem}", nameof(options)));
        IFileExportTable[] exports = context.Services.GetService(typeof(IEnumerable<IFileExportTable>)) is IEnumerable<IFileExportTable> tables ? [.. tables] : [];
        settings.Set(x11, wayland, exports);
        return new CrossDomainDevice(context.Id, settings);
    }

    private static (DisplaySocket? X11, DisplaySocket? Wayland) Resolve(CrossDomainOptions options, Action<string, string> error)
    {
        CrossDomainSettings environment = CrossDomainSettings.FromEnvironment();
        DisplaySocket? x11 = environment.X11;
        DisplaySocket? wayland = environment.Wayland;
        if (options.X11Display is not null)
        {
            string? problem = null;
            x11 = options.X11Display.Length == 0 ? null : DisplaySocket.ParseX11(options.X11Display, out problem);
            if (problem is not null)
            {
                error("x11Display", problem);
            }
        }

        if (options.WaylandDisplay is not null)
        {
            string? problem = null;
            wayland = options.WaylandDisplay.Length == 0 ? null
                : DisplaySocket.ParseWayland(options.WaylandDisplay, Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR"), out problem);
            if (problem is not null)
            {
                error("waylandDisplay", problem);
            }
        }

        return (x11, wayland);
    }

    /// <summary>Holds the settings for the VM's lifetime; disposing it turns both channels off.</summary>
    private sealed class CrossDomainDevice(string id, CrossDomainSettings settings) : IDevice
    {
        public string Id => id;

        public void Dispose() => settings.Set(null, null, null);
    }
}
