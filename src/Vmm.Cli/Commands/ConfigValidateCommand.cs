using System.CommandLine;
using Vmm.Core.Config;

namespace Vmm.Cli.Commands;

/// <summary><c>vmm config validate FILE [--plugin-path DIR]...</c>: prints "FILE: valid" or one line per error.</summary>
internal static class ConfigValidateCommand
{
    public static Command Create(CliContext context)
    {
        Argument<string> file = new("FILE") { Description = "The VM config file (JSON; comments and trailing commas allowed)." };
        Option<string[]> paths = CommandSession.PluginPathOption(
            "A folder of plugins searched instead of the built-in plugins folder; repeatable. The config's plugins.paths add to these.");
        Command validate = new("validate", "Checks a VM config and the plugins it needs; prints every error with its JSON path.") { file, paths };
        validate.SetAction(parseResult =>
        {
            string path = parseResult.GetValue(file)!;
            if (CommandSession.PluginFolders(context, parseResult, paths) is not { } folders)
            {
                return ExitCodes.Usage;
            }

            using CommandSession session = CommandSession.Start(context, parseResult);
            VmConfigResult result = session.LoadConfig(path, folders);
            if (result.IsValid)
            {
                context.Out.WriteLine($"{path}: valid");
                return ExitCodes.Ok;
            }

            foreach (ConfigError error in result.Errors)
            {
                context.Out.WriteLine(error.ToString());
            }

            context.Error.WriteLine($"vmm: {path}: {result.Errors.Count} error{(result.Errors.Count == 1 ? "" : "s")}");
            return CommandSession.ExitCodeFor(result);
        });

        return new Command("config", "Works with VM config files.") { validate };
    }
}
