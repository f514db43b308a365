using System.CommandLine;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using Vmm.Core.Control;

namespace Vmm.Cli.Commands;

/// <summary>
/// <c>vmm ctl --socket PATH COMMAND [--arg key=value]...</c>: sends one control request and prints the reply; verbs
/// with their own arguments (<c>vmm ctl --socket PATH screenshot FILE [--sink ID]</c>, <c>vmm ctl --socket PATH display ...</c>)
/// are subcommands.
/// </summary>
internal static class CtlCommand
{
    public static Command Create(CliContext context)
    {
        Option<string> socket = new("--socket", "-s") { Description = "The VM's control socket.", HelpName = "PATH", Required = true, Recursive = true };
        Option<string[]> args = new("--arg")
        {
            Description = "A command argument; repeatable. The value is read as JSON when it parses (7, true, {\"a\":1}), else as a string.",
            HelpName = "key=value",
        };
        Argument<string> command = new("COMMAND") { Description = "The control command: status, stop, input, ..." };
        Command ctl = new("ctl", "Sends a command to a running VM's control socket and prints the reply JSON.") { socket, args, command };
        ctl.Subcommands.Add(CreateScreenshot(context, socket));
        ctl.Subcommands.Add(CreateDisplay(context, socket));
        ctl.Subcommands.Add(CreatePlugins(context, socket));
        ctl.SetAction(async (parseResult, cancellationToken) =>
        {
            JsonObject arguments = [];
            foreach (string pair in parseResult.GetValue(args) ?? [])
            {
                int equals = pair.IndexOf('=', StringComparison.Ordinal);
                if (equals <= 0)
                {
                    context.Error.WriteLine($"vmm: --arg expects key=value, got '{pair}'");
                    return ExitCodes.Usage;
                }

                arguments[pair[..equals]] = ParseValue(pair[(equals + 1)..]);
            }

            return await SendAsync(context, parseResult.GetValue(socket)!, parseResult.GetValue(command)!, arguments, cancellationToken).ConfigureAwait(false);
        });

        return ctl;
    }

    /// <summary><c>screenshot FILE [--sink ID]</c>: the <c>screenshot</c> request with FILE made absolute against the current folder.</summary>
    private static Command CreateScreenshot(CliContext context, Option<string> socket)
    {
        Argument<string> file = new("FILE") { Description = "Where to write the picture (PNG for a display-png sink); relative to the current folder." };
        Option<string> sink = new("--sink") { Description = "The display sink to take it from; default: the first snapshot-capable one.", HelpName = "ID" };
        Command screenshot = new("screenshot", "Writes the display's current picture to FILE (PNG): through a display-png sink, or the active source's next full frame.") { file, sink };
        screenshot.SetAction(async (parseResult, cancellationToken) =>
        {
            JsonObject arguments = new() { ["path"] = Path.GetFullPath(parseResult.GetValue(file)!) };
            if (parseResult.GetValue(sink) is { } sinkId)
            {
                arguments["sink"] = sinkId;
            }

            return await SendAsync(context, parseResult.GetValue(socket)!, "screenshot", arguments, cancellationToken).ConfigureAwait(false);
        });
        return screenshot;
    }

    /// <summary>
    /// <c>display</c> lists sources and sinks; its subcommands switch the source, attach, detach, add and remove sinks
    /// (the <c>display-*</c> requests).
    /// </summary>
    private static Command CreateDisplay(CliContext context, Option<string> socket)
    {
        Command display = new("display", "Lists the display sources and sinks with their state; subcommands rewire them while the VM runs.");
        display.SetAction(async (parseResult, cancellationToken) =>
            await SendAsync(context, parseResult.GetValue(socket)!, "display", [], cancellationToken).ConfigureAwait(false));
        display.Subcommands.Add(CreateDisplayById(context, socket, "switch-source", "display-switch-source", "Makes the display source ID the active one; every attached sink shows it."));
        display.Subcommands.Add(CreateDisplayById(context, socket, "attach-sink", "display-attach-sink", "Attaches the display sink ID to the active source."));
        display.Subcommands.Add(CreateDisplayById(context, socket, "detach-sink", "display-detach-sink", "Detaches the display sink ID (it keeps its clients)."));
        display.Subcommands.Add(CreateDisplayById(context, socket, "remove-sink", "display-remove-sink", "Removes the display sink ID that add-sink made."));

        Option<string> type = new("--type") { Description = "The sink's device type (display-vnc, display-png, ...).", HelpName = "TYPE", Required = true };
        Option<string> id = new("--id") { Description = "The new sink's id.", HelpName = "ID", Required = true };
        Option<string> options = new("--options") { Description = "The sink's options as a JSON object, as a config's \"options\" (e.g. {\"port\":5901}).", HelpName = "JSON" };
        Option<string> plugin = new("--plugin") { Description = "The plugin to take the type from; default: whichever loaded plugin provides it.", HelpName = "NAME" };
        Option<bool> detached = new("--detached") { Description = "Register the sink without attaching it." };
        Command add = new("add-sink", "Makes a display sink while the VM runs, through its plugin's device factory, and attaches it.") { type, id, options, plugin, detached };
        add.SetAction(async (parseResult, cancellationToken) =>
        {
            JsonObject arguments = new() { ["type"] = parseResult.GetValue(type), ["id"] = parseResult.GetValue(id), ["attach"] = !parseResult.GetValue(detached) };
            if (parseResult.GetValue(options) is { } json)
            {
                try
                {
                    arguments["options"] = JsonNode.Parse(json) as JsonObject ?? throw new JsonException("not an object");
                }
                catch (JsonException ex)
                {
                    context.Error.WriteLine($"vmm: --options expects a JSON object, got '{json}' ({ex.Message})");
                    return ExitCodes.Usage;
                }
            }

            if (parseResult.GetValue(plugin) is { } pluginName)
            {
                arguments["plugin"] = pluginName;
            }

            return await SendAsync(context, parseResult.GetValue(socket)!, "display-add-sink", arguments, cancellationToken).ConfigureAwait(false);
        });
        display.Subcommands.Add(add);
        return display;
    }

    /// <summary><c>plugins reload NAME</c>: the <c>plugins-reload</c> request (a host-side plugin, from a new build in its folder).</summary>
    private static Command CreatePlugins(CliContext context, Option<string> socket)
    {
        Command plugins = new("plugins", "Works on the running VM's plugins.");
        Argument<string> name = new("NAME") { Description = "The plugin's name, as `vmm plugins list` shows it." };
        Command reload = new("reload", "Reloads a plugin whose devices are display sources and sinks from its folder (copy a new build there first); its devices come back with the same options.") { name };
        reload.SetAction(async (parseResult, cancellationToken) =>
            await SendAsync(context, parseResult.GetValue(socket)!, "plugins-reload", new JsonObject { ["name"] = parseResult.GetValue(name) }, cancellationToken).ConfigureAwait(false));
        plugins.Subcommands.Add(reload);
        return plugins;
    }

    private static Command CreateDisplayById(CliContext context, Option<string> socket, string name, string request, string description)
    {
        Argument<string> id = new("ID") { Description = "The display source or sink id." };
        Command command = new(name, description) { id };
        command.SetAction(async (parseResult, cancellationToken) =>
            await SendAsync(context, parseResult.GetValue(socket)!, request, new JsonObject { ["id"] = parseResult.GetValue(id) }, cancellationToken).ConfigureAwait(false));
        return command;
    }

    private static async Task<int> SendAsync(CliContext context, string path, string command, JsonObject arguments, CancellationToken cancellationToken)
    {
        try
        {
            await using ControlClient client = await ControlClient.ConnectAsync(path, cancellationToken).ConfigureAwait(false);
            ControlResponse reply = await client.SendAsync(command, arguments, cancellationToken).ConfigureAwait(false);
            context.Out.WriteLine(reply.Json);
            return reply.Ok ? ExitCodes.Ok : ExitCodes.ControlFailed;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return ExitCodes.Interrupted;
        }
        catch (Exception ex) when (ex is SocketException or IOException or JsonException)
        {
            context.Error.WriteLine($"vmm: control request to '{path}' failed: {ControlSocketFailure.Describe(path, ex)}");
            return ExitCodes.ControlFailed;
        }
    }

    private static JsonNode? ParseValue(string text)
    {
        try
        {
            return JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            return JsonValue.Create(text);
        }
    }
}
