using System.CommandLine;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using Vmm.Core.Control;

namespace Vmm.Cli.Commands;

/// <summary>
/// <c>vmm ctl --socket PATH COMMAND [--arg key=value]...</c>: sends one control request and prints the reply; verbs
/// with their own arguments (<c>vmm ctl --socket PATH screenshot FILE [--sink ID]</c>) are subcommands.
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
        Command screenshot = new("screenshot", "Writes the display's current picture to FILE through a snapshot-capable sink (display-png).") { file, sink };
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
            context.Error.WriteLine($"vmm: control request to '{path}' failed: {ex.Message}");
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
