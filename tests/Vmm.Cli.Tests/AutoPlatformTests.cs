using Vmm.Core.Config;
using Xunit;

namespace Vmm.Cli.Tests;

/// <summary>
/// How <c>auto</c> chooses with the CLI's KVM gate: KVM only where the ring-0 probe says guest kernels run
/// natively, else QEMU; an explicit <c>kvm</c> still runs on KVM.
/// </summary>
public sealed class AutoPlatformTests : IDisposable
{
    private static readonly KvmHostFacts s_emulated = new(false, "KVM probe: ring 0 is 4000.0x slower: guest kernel code is emulated.");
    private static readonly KvmHostFacts s_native = new(true, "KVM probe: ring 0 is 1.0x slower: guest kernel code runs natively.");
    private readonly CliFixture _fixture = new();
    private readonly CliRunner _cli = new();
    private readonly FakePlatform _kvm = new("kvm", PlatformKind.Kvm) { Result = Core.Hosting.VmRunResult.Stopped };
    private readonly FakePlatform _qemu = new("qemu", PlatformKind.Qemu);

    public void Dispose() => _fixture.Dispose();

    private string Config(string platform) =>
        _fixture.Write("vm.json", $$"""{ "platform": "{{platform}}", "devices": [ { "id": "d", "plugin": "fake", "type": "fake-dev" } ] }""");

    private void UsePlatforms(KvmHostFacts facts, bool withQemu = true)
    {
        _cli.Platforms.Clear();
        _cli.Platforms.Add(new KvmAutoPlatform(_kvm, () => facts));
        if (withQemu)
        {
            _cli.Platforms.Add(_qemu);
        }
    }

    [Fact]
    public async Task Auto_GuestKernelsEmulated_PicksQemu()
    {
        UsePlatforms(s_emulated);

        CliResult result = await _cli.RunAsync("run", "--config", Config("auto"));

        Assert.Equal(0, result.ExitCode);
        Assert.NotNull(_qemu.RanWith);
        Assert.Null(_kvm.RanWith);
    }

    [Fact]
    public async Task Auto_GuestKernelsNative_PicksKvm()
    {
        UsePlatforms(s_native);

        CliResult result = await _cli.RunAsync("run", "--config", Config("auto"));

        Assert.Equal(0, result.ExitCode);
        Assert.NotNull(_kvm.RanWith);
        Assert.Null(_qemu.RanWith);
    }

    [Fact]
    public async Task ExplicitKvm_RunsOnKvmEvenWhereGuestKernelsAreEmulated()
    {
        UsePlatforms(s_emulated);

        CliResult result = await _cli.RunAsync("run", "--config", Config("kvm"));

        Assert.Equal(0, result.ExitCode);
        Assert.NotNull(_kvm.RanWith);
    }

    [Fact]
    public async Task Auto_NeitherPlatformCanRun_NamesBothReasons_Exit5()
    {
        UsePlatforms(s_emulated, withQemu: false);
        _cli.Platforms.Add(new Core.Hosting.UnavailablePlatform("qemu", PlatformKind.Qemu, "qemu-system-x86_64 was not found on PATH"));

        CliResult result = await _cli.RunAsync("run", "--config", Config("auto"));

        Assert.Equal(5, result.ExitCode);
        Assert.Equal(
            "vmm: platform 'auto' found no platform that can run the VM: platform 'kvm' is not chosen by auto: this host's KVM does not run guest kernels natively (KVM probe: ring 0 is 4000.0x slower: guest kernel code is emulated.); qemu: qemu-system-x86_64 was not found on PATH",
            result.Error.Trim());
    }
}
