using System.CommandLine;
using Vmm.Core.Config;

namespace Vmm.Cli.Commands;

/// <summary><c>vmm config validate FILE</c>: prints "FILE: valid" or one line per error.</summary>
internal static class ConfigValidateCommand
{
    public static Command Create(CliContext context)
    {
        Argument<string> file = new("FILE") { Description = "The VM config file (JSON; comments and trailing commas allowed)." };
        Command validate = new("validate", "Checks a VM config and the plugins it needs; prints every error with its JSON path.") { file };
        validate.SetAction(parseResult =>
        {
            string path = parseResult.GetValue(file)!;
            using CommandSession session = CommandSession.Start(context, parseResult);
            VmConfigResult result = session.LoadConfig(path);
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
