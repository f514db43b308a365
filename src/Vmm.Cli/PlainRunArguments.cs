namespace Vmm.Cli;

/// <summary>
/// Recognises the start-up path's command line, <c>vmm run --config FILE</c> (with <c>-c</c>, and <c>-v</c>/<c>--verbose</c>
/// anywhere), without System.CommandLine: building its command tree and binding its generic options costs a
/// start-up tens of milliseconds of type loading and JIT. Anything else (another command, a guest command after
/// <c>--</c>, <c>-t</c>, <c>--help</c>, a response file, a repeated or missing option) is left to System.CommandLine,
/// which then parses, reports and helps as before.
/// </summary>
internal static class PlainRunArguments
{
    /// <summary>Whether <paramref name="args"/> is a plain <c>run</c>; then its config path and whether it is verbose.</summary>
    public static bool TryParse(string[] args, out string config, out bool verbose)
    {
        ArgumentNullException.ThrowIfNull(args);
        config = "";
        verbose = false;
        bool run = false;
        bool configured = false;
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            switch (arg)
            {
                case "run" when !run && !configured:
                    run = true;
                    break;
                case "-v" or "--verbose" when !verbose:
                    verbose = true;
                    break;
                case "-c" or "--config" when run && !configured && i + 1 < args.Length && IsValue(args[i + 1]):
                    config = args[++i];
                    configured = true;
                    break;
                default:
                    return false;
            }
        }

        return run && configured;
    }

    // What System.CommandLine would read as something else: an option, "--", or a response file ("@file").
    private static bool IsValue(string arg) => arg.Length > 0 && arg[0] is not ('-' or '@');
}
