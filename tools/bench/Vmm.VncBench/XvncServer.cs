using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Vmm.Contracts.Display;

namespace Vmm.VncBench;

/// <summary>
/// TigerVNC's Xvnc (the reference): an X server whose framebuffer is the VNC server's. Frames reach it as an X
/// client would draw them: PutImage on the root window through <see cref="X11Connection"/>, then a round trip.
/// </summary>
internal sealed class XvncServer : IFrameServer
{
    private readonly Process _process;
    private readonly X11Connection _x11;
    private readonly int _width;
    private readonly int _display;

    private XvncServer(Process process, X11Connection x11, IPEndPoint endPoint, int width, string version, int display)
    {
        _process = process;
        _display = display;
        _x11 = x11;
        EndPoint = endPoint;
        _width = width;
        Name = version;
    }

    public string Name { get; }

    public IPEndPoint EndPoint { get; }

    /// <summary>The Xvnc parameters besides display, size and port; printed with the figures.</summary>
    public static string[] Parameters(int zlibLevel) =>
    [
        "-depth", "24", "-SecurityTypes", "None", "-interface", "127.0.0.1", "-AlwaysShared",
        // No cap on updates a second (default 60), no framebuffer comparison (ours has none; every damaged pixel changes
        // anyway), and zlib at our level (ours: CompressionLevel.Fastest, zlib 1).
        "-FrameRate", "1000", "-CompareFB", "0", "-ZlibLevel", zlibLevel.ToString(CultureInfo.InvariantCulture),
    ];

    public static XvncServer Start(string binary, int width, int height, int zlibLevel, byte[] first)
    {
        int display = FreeDisplay();
        int port = FreePort();
        var start = new ProcessStartInfo(binary) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string argument in (string[])[$":{display}", "-geometry", $"{width}x{height}", "-rfbport", port.ToString(CultureInfo.InvariantCulture), .. Parameters(zlibLevel)])
        {
            start.ArgumentList.Add(argument);
        }

        Process process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {binary}.");
        var log = new System.Collections.Concurrent.ConcurrentQueue<string>();
        process.ErrorDataReceived += (_, e) => log.Enqueue(e.Data ?? string.Empty);
        process.OutputDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        string socket = $"/tmp/.X11-unix/X{display}";
        var endPoint = new IPEndPoint(IPAddress.Loopback, port);
        for (int i = 0; i < 200 && !(File.Exists(socket) && Listening(endPoint)); i++)
        {
            if (process.HasExited)
            {
                break;
            }

            Thread.Sleep(50);
        }

        if (process.HasExited || !File.Exists(socket) || !Listening(endPoint))
        {
            if (!process.HasExited)
            {
                process.Kill();
            }

            process.Dispose();
            throw new InvalidOperationException($"{binary} did not start: {string.Join(" | ", log.Where(l => l.Length > 0).TakeLast(5))}");
        }

        string version = Version(binary);
        var x11 = new X11Connection(display, width);
        var server = new XvncServer(process, x11, endPoint, width, version, display);
        server.Show(first, new DamageRect(0, 0, width, height));
        return server;
    }

    public void Show(byte[] pixels, DamageRect damage)
        => _x11.PutImage(pixels, _width * Frames.BytesPerPixel, damage.X, damage.Y, damage.Width, damage.Height);

    public void Dispose()
    {
        _x11.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }

        _process.Dispose();
        // Killed, the X server leaves its lock file and socket; they are this bench's, so the next run can reuse the number.
        File.Delete($"/tmp/.X{_display}-lock");
        File.Delete($"/tmp/.X11-unix/X{_display}");
    }

    /// <summary>"Xvnc TigerVNC 1.12.0" from the first line <c>Xvnc -version</c> prints (on stderr).</summary>
    private static string Version(string binary)
    {
        var start = new ProcessStartInfo(binary, "-version") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        using Process? process = Process.Start(start);
        if (process is null)
        {
            return "Xvnc";
        }

        string text = process.StandardError.ReadToEnd() + process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        string? line = text.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith("Xvnc", StringComparison.Ordinal));
        return line?.Split(" - ")[0] ?? "Xvnc";
    }

    private static int FreeDisplay()
    {
        for (int display = 80; display < 200; display++)
        {
            if (!File.Exists($"/tmp/.X{display}-lock") && !File.Exists($"/tmp/.X11-unix/X{display}"))
            {
                return display;
            }
        }

        throw new InvalidOperationException("no free X display number in 80-199");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static bool Listening(IPEndPoint endPoint)
    {
        try
        {
            using var probe = new TcpClient();
            probe.Connect(endPoint);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
