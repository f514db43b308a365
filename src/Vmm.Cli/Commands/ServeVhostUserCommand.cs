using System.CommandLine;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Vmm.Contracts.Devices;
using Vmm.Contracts.Virtio;
using Vmm.Core.Hosting;
using Vmm.Core.Plugins;
using Vmm.VhostUser;

namespace Vmm.Cli.Commands;

/// <summary>
/// <c>vmm serve-vhost-user --socket PATH --device TYPE [--plugin-path DIR]... [--option key=value]... [--id ID]</c>:
/// serves one plugin device as a vhost-user back-end (for QEMU, crosvm, cloud-hypervisor) until Ctrl-C.
/// </summary>
internal static class ServeVhostUserCommand
{
    public static Command Create(CliContext context)
    {
        Option<string> socket = new("--socket", "-s") { Description = "The Unix socket to listen on (the front-end's chardev path).", HelpName = "PATH", Required = true };
        Option<string> device = new("--device", "-d") { Description = "The device type, as a plugin declares it (virtio-rng, ...).", HelpName = "TYPE", Required = true };
        Option<string[]> paths = CommandSession.PluginPathOption("A folder to search for plugins; repeatable. Default: the plugins folder next to vmm.");
        Option<string[]> options = new("--option", "-o")
        {
            Description = "A device option, as the config's \"options\" object names it; repeatable. Numbers and booleans are read as JSON.",
            HelpName = "key=value",
        };
        Option<string> id = new("--id") { Description = "The device id (logs, metrics). Default: the device type.", HelpName = "ID" };
        Command serve = new("serve-vhost-user", "Serves one plugin device over vhost-user on a Unix socket until Ctrl-C.") { socket, device, paths, options, id };
        serve.SetAction(async (parseResult, cancellationToken) =>
        {
            string type = parseResult.GetValue(device)!;
            List<KeyValuePair<string, string>> pairs = [];
            foreach (string pair in parseResult.GetValue(options) ?? [])
            {
                int equals = pair.IndexOf('=', StringComparison.Ordinal);
                if (equals <= 0)
                {
                    context.Error.WriteLine($"vmm: --option expects key=value, got '{pair}'");
                    return ExitCodes.Usage;
                }

                pairs.Add(new(pair[..equals], pair[(equals + 1)..]));
            }

            if (CommandSession.PluginFolders(context, parseResult, paths) is not { } folders)
            {
                return ExitCodes.Usage;
            }

            using CommandSession session = CommandSession.Start(context, parseResult);
            IPluginCatalog catalog = session.LoadPlugins(folders, []);
            if (FindFactory(context, catalog, type, folders, out int failure) is not IDeviceFactory factory)
            {
                return failure;
            }

            object? deviceOptions = DeviceOptionsBinder.Bind(factory, pairs, Environment.CurrentDirectory, out IReadOnlyList<string> errors);
            if (deviceOptions is null)
            {
                foreach (string error in errors)
                {
                    context.Error.WriteLine($"vmm: {error}");
                }

                return ExitCodes.ConfigInvalid;
            }

            string deviceId = parseResult.GetValue(id) ?? type;
            using ServiceProvider services = new ServiceCollection().AddSingleton(TimeProvider.System).BuildServiceProvider();
            using IDevice created = factory.Create(new DeviceCreateContext(deviceId, session.LoggerFactory, null, services, Environment.CurrentDirectory), deviceOptions);
            if (created is not IVirtioDevice virtio)
            {
                context.Error.WriteLine($"vmm: device type '{type}' is not a virtio device; vhost-user serves virtio devices only");
                return ExitCodes.ConfigInvalid;
            }

            string socketPath = Path.GetFullPath(parseResult.GetValue(socket)!);
            await using VhostUserServer server = new(socketPath, virtio, session.LoggerFactory);
            Task running;
            try
            {
                running = server.RunAsync(cancellationToken);
            }
            catch (SocketException ex)
            {
                context.Error.WriteLine($"vmm: cannot listen on '{socketPath}': {ex.Message}");
                return ExitCodes.VmFailed;
            }

            context.Error.WriteLine($"vmm: serving {type} device '{deviceId}' over vhost-user at {socketPath} (Ctrl-C stops)");
            await running.ConfigureAwait(false);
            return ExitCodes.Interrupted;
        });

        return serve;
    }

    /// <summary>The loaded factory for <paramref name="type"/>; otherwise prints why and sets the exit code.</summary>
    private static IDeviceFactory? FindFactory(CliContext context, IPluginCatalog catalog, string type, IReadOnlyList<string> folders, out int failure)
    {
        failure = ExitCodes.Ok;
        foreach (PluginInfo plugin in catalog.Plugins.Where(p => p.DeviceTypes.Contains(type, StringComparer.Ordinal)))
        {
            if (plugin.Status == PluginLoadStatus.Loaded && catalog.TryGetFactory(plugin.Name, type, out IDeviceFactory? factory))
            {
                return factory;
            }

            context.Error.WriteLine($"vmm: plugin '{plugin.Name}', which provides device type '{type}', failed to load: {plugin.Error ?? plugin.Status.ToString().ToLowerInvariant()}");
            failure = ExitCodes.PluginFailed;
            return null;
        }

        string[] known = catalog.Plugins.Where(p => p.Status == PluginLoadStatus.Loaded).SelectMany(p => p.DeviceTypes).Distinct().Order(StringComparer.Ordinal).ToArray();
        context.Error.WriteLine($"vmm: no plugin in {string.Join(", ", folders.Select(f => $"'{f}'"))} has device type '{type}' (known: {(known.Length == 0 ? "none" : string.Join(", ", known))})");
        failure = ExitCodes.ConfigInvalid;
        return null;
    }
}
