using Vmm.Cli;

namespace Vmm.Integration.Tests.Cli;

/// <summary>What the integration tests need to drive a running <c>vmm run</c>: a free loopback port, and <c>vmm ctl</c>.</summary>
internal static class VmmCtl
{
    /// <summary>Runs <c>vmm ctl ARGS</c> in-process; its exit code and what it wrote to stdout then stderr.</summary>
    public static async Task<(int ExitCode, string Out)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        int code = await Program.RunAsync(["ctl", .. args], output, error, CancellationToken.None);
        return (code, output.ToString() + error);
    }

    /// <summary>A TCP port on 127.0.0.1 nothing listens on now (for a VNC sink the test connects to).</summary>
    public static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
