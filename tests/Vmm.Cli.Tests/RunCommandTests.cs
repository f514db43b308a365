using Vmm.Core.Config;
using Vmm.Core.Hosting;
using Xunit;

namespace Vmm.Cli.Tests;

public sealed class RunCommandTests : IDisposable
{
    private readonly CliFixture _fixture = new();
    private readonly CliRunner _cli = new();

    public void Dispose() => _fixture.Dispose();

    private string Config(string platform = "auto", string extra = "") =>
        _fixture.Write("vm.json", $$"""{ "platform": "{{platform}}", "devices": [ { "id": "d", "plugin": "fake", "type": "fake-dev" } ]{{extra}} }""");

    [Fact]
    public async Task InvalidConfig_PrintsErrorsToStderr_Exit3()
    {
        string file = _fixture.Write("vm.json", """{ "machine": { "vcpus": 300 } }""");

        CliResult result = await _cli.RunAsync("run", "--config", file);

        Assert.Equal(3, result.ExitCode);
        Assert.Equal($"vmm: {file}: $.machine.vcpus: expected an integer from 1 to 255, got number 300", result.Error.Trim());
    }

    [Fact]
    public async Task PluginFailure_Exit4()
    {
        _cli.Catalog = FakeCatalog.WithFakeDevice().AddFailed("broken", "bad");
        string file = _fixture.Write("vm.json", """{ "devices": [ { "id": "b", "plugin": "broken", "type": "broken-dev" } ] }""");

        Assert.Equal(4, (await _cli.RunAsync("run", "--config", file)).ExitCode);
    }

    [Fact]
    public async Task KvmNotInThisBuild_OneClearLine_Exit5()
    {
        CliResult result = await _cli.RunAsync("run", "--config", Config("kvm"));

        Assert.Equal(5, result.ExitCode);
        Assert.Equal("vmm: platform 'kvm' is not available in this build yet", result.Error.Trim());
    }

    [Fact]
    public async Task Auto_NamesWhyEachPlatformCannotRun_Exit5()
    {
        CliResult result = await _cli.RunAsync("run", "-c", Config("auto"));

        Assert.Equal(5, result.ExitCode);
        Assert.Equal("vmm: platform 'auto' found no platform that can run the VM: platform 'kvm' is not available in this build yet; platform 'qemu' is not available in this build yet", result.Error.Trim());
    }

    [Fact]
    public async Task Auto_PicksTheFirstAvailablePlatform_Exit0()
    {
        FakePlatform qemu = new("qemu", PlatformKind.Qemu);
        _cli.Platforms.Add(qemu);

        CliResult result = await _cli.RunAsync("run", "--config", Config("auto"));

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("d", Assert.Single(qemu.RanWith!.Devices).Id);
    }

    [Fact]
    public async Task GuestFailure_Exit1()
    {
        _cli.Platforms.Add(new FakePlatform("qemu", PlatformKind.Qemu) { Result = new VmRunResult(VmRunOutcome.GuestFailed, "triple fault") });

        CliResult result = await _cli.RunAsync("run", "--config", Config("qemu"));

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("vmm: the VM failed: triple fault", result.Error.Trim());
    }

    [Fact]
    public async Task Interrupted_Exit130()
    {
        FakePlatform qemu = new("qemu", PlatformKind.Qemu) { Result = null };
        _cli.Platforms.Add(qemu);
        using CancellationTokenSource ctrlC = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);

        Task<CliResult> run = _cli.RunUntilCancelledAsync(["run", "--config", Config("qemu")], ctrlC.Token);
        await qemu.Started.Task.WaitAsync(TestContext.Current.CancellationToken);
        await ctrlC.CancelAsync();
        CliResult result = await run;

        Assert.Equal(130, result.ExitCode);
    }

    [Fact]
    public async Task ControlSocket_IsServedWhileTheVmRuns_AndRemovedAfter()
    {
        string socket = Path.Combine(_fixture.Directory, "vm.sock");
        FakePlatform qemu = new("qemu", PlatformKind.Qemu) { Result = null };
        _cli.Platforms.Add(qemu);
        Task<CliResult> run = _cli.RunAsync("run", "--config", Config("qemu", $$""", "control": { "socket": "{{socket}}" }"""));
        await qemu.Started.Task.WaitAsync(TestContext.Current.CancellationToken);

        CliResult status = await new CliRunner().RunAsync("ctl", "--socket", socket, "status");
        CliResult stop = await new CliRunner().RunAsync("ctl", "--socket", socket, "stop");
        CliResult ran = await run;

        Assert.True(status.ExitCode == 0, $"ctl status exit {status.ExitCode}; stdout: {status.Out}; stderr: {status.Error}");
        Assert.Equal("""{"v":1,"id":1,"ok":true,"result":{"state":"running","platform":"qemu","uptimeSeconds":0,"vcpus":1,"memoryBytes":268435456,"devices":[]}}""", status.Out.Trim());
        Assert.True(stop.ExitCode == 0, $"ctl stop exit {stop.ExitCode}; stdout: {stop.Out}; stderr: {stop.Error}");
        Assert.True(ran.ExitCode == 0, $"run exit {ran.ExitCode}; stderr: {ran.Error}");
        Assert.False(File.Exists(socket));
    }

    [Fact]
    public async Task CommandForAVmAlreadyRunning_ThatFails_SaysWhichVmItWentTo()
    {
        string socket = Path.Combine(_fixture.Directory, "running.sock");
        string uds = Path.Combine(_fixture.Directory, "gone.vsock");
        Core.Control.ControlCommandRegistry commands = new();
        commands.Add(new StatusWithVsock(uds));
        await using Core.Control.ControlServer running = new(socket, commands);
        running.Start();

        CliResult result = await _cli.RunAsync("run", "--config", Config("qemu", $$""", "control": { "socket": "{{socket}}" }"""), "--", "true");

        Assert.Equal(255, result.ExitCode);
        Assert.StartsWith(
            $"vmm: exec: in the VM already running on '{socket}' (the config's control.socket): cannot connect to the vsock device's socket '{uds}': ",
            result.Error, StringComparison.Ordinal);
    }

    private sealed class StatusWithVsock(string uds) : Core.Control.IControlCommand
    {
        public string Name => "status";

        public string Description => "A running VM with one virtio-vsock device.";

        public ValueTask<System.Text.Json.Nodes.JsonNode?> ExecuteAsync(System.Text.Json.JsonElement args, CancellationToken cancellationToken) =>
            ValueTask.FromResult(System.Text.Json.Nodes.JsonNode.Parse($$"""{ "devices": [ { "id": "v", "type": "virtio-vsock", "options": { "uds": "{{uds}}" } } ] }"""));
    }

    [Fact]
    public async Task ControlSocketInUse_OneLine_Exit1()
    {
        string socket = Path.Combine(_fixture.Directory, "busy.sock");
        await using Core.Control.ControlServer other = new(socket, new Core.Control.ControlCommandRegistry());
        other.Start();
        _cli.Platforms.Add(new FakePlatform("qemu", PlatformKind.Qemu));

        CliResult result = await _cli.RunAsync("run", "--config", Config("qemu", $$""", "control": { "socket": "{{socket}}" }"""));

        Assert.Equal(1, result.ExitCode);
        Assert.Equal($"vmm: Control socket '{socket}' is in use by another process.", result.Error.Trim());
    }
}
