using System.Text.Json;
using System.Text.Json.Nodes;
using Vmm.Core.Control;
using Vmm.Core.Display.Control;
using Vmm.Core.Plugins;

namespace Vmm.Core.Hosting;

/// <summary>
/// <c>plugins-reload</c>: unloads a host-side plugin (display sources and sinks) and loads it again from its folder,
/// its devices made again from their options (see <see cref="VmDeviceSet.ReloadPlugin"/>). Args: <c>{"name":"display"}</c>.
/// Result: <c>{"name":"display","version":"1.0.1","status":"loaded","devices":["pattern0","vnc1"]}</c>.
/// </summary>
internal sealed class PluginReloadCommand(VmDeviceSet devices) : IControlCommand
{
    /// <inheritdoc />
    public string Name => "plugins-reload";

    /// <inheritdoc />
    public string Description => "Reloads the plugin {\"name\"} from its folder (a new build) with its display devices; not one with a device on the guest's bus.";

    /// <inheritdoc />
    public ValueTask<JsonNode?> ExecuteAsync(JsonElement args, CancellationToken cancellationToken)
    {
        string name = DisplayArgs.RequiredString(args, "name", "a plugin name string");
        (PluginInfo plugin, IReadOnlyList<string> made) = devices.ReloadPlugin(name);
        return ValueTask.FromResult<JsonNode?>(new JsonObject
        {
            ["name"] = plugin.Name,
            ["version"] = plugin.Version,
            ["status"] = plugin.Status.ToString().ToLowerInvariant(),
            ["devices"] = new JsonArray([.. made.Select(id => JsonValue.Create(id))]),
        });
    }
}
