using Vmm.Contracts.Virtio;

namespace Vmm.VhostUser.Tests;

/// <summary>A running <see cref="VhostUserServer"/> on a temporary socket.</summary>
internal sealed class RunningServer : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();

    public RunningServer(IVirtioDevice device)
    {
        SocketPath = Path.Combine(Path.GetTempPath(), $"vmm-vu-{Guid.NewGuid():N}.sock");
        Server = new VhostUserServer(SocketPath, device);
        Running = Server.RunAsync(_stop.Token);
    }

    public string SocketPath { get; }

    public VhostUserServer Server { get; }

    public Task Running { get; }

    /// <summary>Waits until <paramref name="count"/> connections have ended on the server side.</summary>
    public void WaitForCompletedConnections(int count)
    {
        long deadline = Environment.TickCount64 + 10_000;
        while (Server.CompletedConnections < count)
        {
            Assert.True(Environment.TickCount64 < deadline, $"The server ended {Server.CompletedConnections} connections, expected {count}.");
            Thread.Sleep(10);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Running.WaitAsync(TimeSpan.FromSeconds(10));
        await Server.DisposeAsync();
        Assert.False(File.Exists(SocketPath), "The socket file outlived the server.");
        _stop.Dispose();
    }
}
