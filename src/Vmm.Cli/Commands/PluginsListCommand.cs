using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Vmm.Core.Plugins;

namespace Vmm.Cli.Commands;

/// <summary><c>vmm plugins list [--plugin-path DIR]... [--json]</c>: what plugins exist and whether they load.</summary>
internal static class PluginsListCommand
{
    private static readonly JsonSerializerOptions s_indented = new() { WriteIndented = true };

    public static Command Create(CliContext context)
    {
        Option<string[]> paths = CommandSession.PluginPathOption("A folder to search for plugins; repeatable. Default: the plugins folder next to vmm.");
        Option<bool> json = new("--json") { Description = "Print JSON instead of a table." };
        Command list = new("list", "Lists the plugins found, their versions, device types and whether they load.") { paths, json };
        list.SetAction(parseResult =>
        {
            if (CommandSession.PluginFolders(context, parseResult, paths) is not { } folders)
            {
                return ExitCodes.Usage;
            }

            using CommandSession session = CommandSession.Start(context, parseResult);
            IReadOnlyList<PluginInfo> plugins = session.LoadPlugins(folders, []).Plugins;
            if (parseResult.GetValue(json))
            {
                WriteJson(context.Out, plugins);
            }
            else
            {
                WriteTable(context, plugins, folders);
            }

            return plugins.Any(p => p.Status == PluginLoadStatus.Failed) ? ExitCodes.PluginFailed : ExitCodes.Ok;
        });

        return new Command("plugins", "Works with plugins.") { list };
    }

    private static void WriteJson(TextWriter output, IReadOnlyList<PluginInfo> plugins)
    {
        JsonArray array = [];
        foreach (PluginInfo plugin in plugins)
        {
            array.Add(new JsonObject
            {
                ["name"] = plugin.Name,
                ["version"] = plugin.Version,
                ["contractVersion"] = plugin.ContractVersion,
                ["deviceTypes"] = new JsonArray(plugin.DeviceTypes.Select(t => (JsonNode?)JsonValue.Create(t)).ToArray()),
                ["directory"] = plugin.Directory,
                ["status"] = plugin.Status.ToString().ToLowerInvariant(),
                ["error"] = plugin.Error,
            });
        }

        output.WriteLine(array.ToJsonString(s_indented));
    }

    private static void WriteTable(CliContext context, IReadOnlyList<PluginInfo> plugins, IReadOnlyList<string> folders)
    {
        if (plugins.Count == 0)
        {
            context.Error.WriteLine($"vmm: no plugins found in {string.Join(", ", folders.Select(f => $"'{f}'"))}");
            return;
        }

        string[][] rows = plugins
            .Select(p => new[] { p.Name, p.Version, p.ContractVersion, p.Status.ToString().ToLowerInvariant(), string.Join(",", p.DeviceTypes) })
            .Prepend(["NAME", "VERSION", "CONTRACT", "STATUS", "DEVICE TYPES"])
            .ToArray();
        int[] widths = Enumerable.Range(0, 4).Select(c => rows.Max(r => r[c].Length)).ToArray();
        foreach (string[] row in rows)
        {
            context.Out.WriteLine(string.Join("  ", row.Take(4).Select((cell, c) => cell.PadRight(widths[c]))) + "  " + row[4]);
        }

        foreach (PluginInfo plugin in plugins.Where(p => p.Error is not null))
        {
            context.Out.WriteLine($"{plugin.Name}: {plugin.Error}");
        }
    }
}
