using Microsoft.Extensions.Logging;
using Vmm.Core.Control;
using Vmm.Core.Plugins;

namespace Vmm.Core.Hosting;

/// <summary>What a platform gets besides the spec: logging, the loaded plugins, the control commands to extend.</summary>
/// <param name="LoggerFactory">Where loggers come from.</param>
/// <param name="Plugins">The plugins the spec's device factories come from.</param>
/// <param name="ControlCommands">
/// The commands the VM's control socket answers; the platform adds <c>status</c> and <c>stop</c> for its VM
/// (and whatever else it supports) and serves them when the spec has a control section.
/// </param>
public sealed record VmRunContext(ILoggerFactory LoggerFactory, IPluginCatalog Plugins, ControlCommandRegistry ControlCommands);
