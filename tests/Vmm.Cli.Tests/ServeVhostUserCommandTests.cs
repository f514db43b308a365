using Vmm.Contracts.Virtio;
using Vmm.Testing.VhostUser;
using Xunit;

namespace Vmm.Cli.Tests;

/// <summary>
/// <c>vmm serve-vhost-user</c> with the real plugin host and the built-in virtio-rng plugin (next to vmm), driven
/// by the C# vhost-user front-end as QEMU would drive it.
/// </summary>
public sealed class ServeVhostUserCommandTests : IDisposable
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(10);
    private readonly CliFixture _fixture = new();

    public void Dispose() => _fixture.Dispose();

    [Fact]
    public async Task VirtioRng_BytesFromTheFileSource_ComeBackThroughVhostUser_CtrlCExits130()
    {
        byte[] pattern = [.. Enumerable.Range(0, 4096).Select(i => (byte)(i * 13 + 1))];
        string source = Path.Combine(_fixture.Directory, "entropy.bin");
        await File.WriteAllBytesAsync(source, pattern, TestContext.Current.CancellationToken);
        string socket = Path.Combine(_fixture.Directory, "rng.sock");
        using StringWriter output = new();
        using StringWriter error = new();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        Task<int> serving = Program.RunAsync(
            ["serve-vhost-user", "--socket", socket, "--device", "virtio-rng", "--option", "source=file", "--option", $"path={source}", "--option", "maxBytesPerPeriod=0", "--id", "rng7"],
            TextWriter.Synchronized(output),
            TextWriter.Synchronized(error),
            stop.Token);
        await WaitForSocketAsync(socket, serving);

        byte[] bytes = new byte[64];
        using (VhostUserFrontend frontend = VhostUserFrontend.Connect(socket))
        {
            frontend.Negotiate();
            Assert.Equal(VirtioFeatures.Version1, frontend.NegotiatedFeatures & VirtioFeatures.Version1);
            VhostUserFrontendQueue queue = frontend.StartQueue(0, 8);
            ulong buffer = frontend.Allocator.Allocate(64, 8);
            queue.Post([], [new GuestBuffer(buffer, 64)]);
            Assert.True(queue.WaitForUsed(s_timeout, out _, out uint length), "The device did not fill the buffer.");
            Assert.Equal(64u, length);
            frontend.Memory.Read(buffer, bytes);
        }

        Assert.Equal(pattern[..64], bytes);
        await stop.CancelAsync();
        int exitCode = await serving.WaitAsync(s_timeout, TestContext.Current.CancellationToken);
        Assert.Equal(130, exitCode);
        Assert.Contains($"vmm: serving virtio-rng device 'rng7' over vhost-user at {socket}", error.ToString(), StringComparison.Ordinal);
        Assert.False(File.Exists(socket), "The socket file was left behind.");
    }

    [Fact]
    public async Task UnknownDeviceType_OneClearLine_Exit3()
    {
        (int exitCode, string error) = await RunAsync("serve-vhost-user", "--socket", Path.Combine(_fixture.Directory, "x.sock"), "--device", "virtio-teapot");

        Assert.Equal(3, exitCode);
        Assert.Matches(@"^vmm: no plugin in '.*plugins' has device type 'virtio-teapot' \(known: cross-domain, display-png, display-test-pattern, display-vnc, ivshmem, kvmfr-export, virtio-fs, virtio-gpu, virtio-input, virtio-rng, virtio-vsock\)$", error.Trim());
    }

    [Theory]
    [InlineData("maxBytesPerPeriod=x", "vmm: --option maxBytesPerPeriod: expected an integer, got string \"x\"")]
    [InlineData("periodMs=0", "vmm: --option periodMs: must be at least 1, not 0.")]
    [InlineData("colour=blue", "vmm: --option colour: expected one of the options source, path, maxBytesPerPeriod, periodMs, got unknown member 'colour'")]
    public async Task BadOption_SameMessageAsTheConfig_Exit3(string option, string expected)
    {
        (int exitCode, string error) = await RunAsync("serve-vhost-user", "--socket", Path.Combine(_fixture.Directory, "x.sock"), "--device", "virtio-rng", "--option", option);

        Assert.Equal(3, exitCode);
        Assert.Equal(expected, error.Trim());
    }

    [Fact]
    public async Task OptionWithoutEquals_UsageError_Exit2()
    {
        (int exitCode, string error) = await RunAsync("serve-vhost-user", "--socket", "x.sock", "--device", "virtio-rng", "--option", "source");

        Assert.Equal(2, exitCode);
        Assert.Equal("vmm: --option expects key=value, got 'source'", error.Trim());
    }

    private static async Task<(int ExitCode, string Error)> RunAsync(params string[] args)
    {
        using StringWriter output = new();
        using StringWriter error = new();
        int exitCode = await Program.RunAsync(args, output, error, TestContext.Current.CancellationToken);
        return (exitCode, error.ToString());
    }

    private static async Task WaitForSocketAsync(string socket, Task<int> serving)
    {
        using var timeout = new CancellationTokenSource(s_timeout);
        while (!File.Exists(socket))
        {
            Assert.False(serving.IsCompleted, $"serve-vhost-user ended early with exit code {(serving.IsCompleted ? serving.Result : 0)}.");
            await Task.Delay(20, timeout.Token);
        }
    }
}
