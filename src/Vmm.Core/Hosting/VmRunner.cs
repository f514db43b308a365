using Vmm.Core.Config;
using Vmm.Core.Control;

namespace Vmm.Core.Hosting;

/// <summary>
/// Runs a validated spec on a platform: serves the control socket (when the spec has one) for the whole run,
/// lets the platform register its commands, and removes the socket when the run ends.
/// </summary>
public static class VmRunner
{
    /// <summary>Runs <paramref name="spec"/> on <paramref name="platform"/> until the VM stops or <paramref name="cancellationToken"/> fires.</summary>
    /// <exception cref="OperationCanceledException">The run was cancelled.</exception>
    public static async Task<VmRunResult> RunAsync(VmSpec spec, IVmPlatform platform, VmRunContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(platform);
        ArgumentNullException.ThrowIfNull(context);
        ControlServer? control = spec.Control is null ? null : new ControlServer(spec.Control.SocketPath, context.ControlCommands, context.LoggerFactory);
        try
        {
            control?.Start();
            return await platform.RunAsync(spec, context, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (control is not null)
            {
                await control.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}
