using System.CommandLine;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using Vmm.Core.Control;

namespace Vmm.Cli.Commands;

/// <summary><c>vmm ctl --socket PATH COMMAND [--arg key=value]...</c>: sends one control request and prints the reply.</summary>
internal static class CtlCommand
{
    public static Command Create(CliContext context)
    {
        Option<string> socket = new("--socket", "-s") { Description = "The VM's control socket.", HelpName = "PATH", Required = true };
        Option<string[]> args = new("--arg")
        {
            Description = "A command argument; repeatable. The value is read as JSON when it parses (7, true, {\"a\":1}), else as a string.",
            HelpName = "key=value",
        };
        Argument<string> command = new("COMMAND") { Description = "The control command: status, stop, ..." };
        Command ctl = new("ctl", "Sends a command to a running VM's control socket and prints the reply JSON.") { socket, args, command };
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

            string path = parseResult.GetValue(socket)!;
            try
            {
                await using ControlClient client = await ControlClient.ConnectAsync(path, cancellationToken).ConfigureAwait(false);
                ControlResponse reply = await client.SendAsync(parseResult.GetValue(command)!, arguments, cancellationToken).ConfigureAwait(false);
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
        });

        return ctl;
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
