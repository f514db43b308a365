using Xunit;

namespace Vmm.Core.Tests.Config;

public sealed class MachineValidatorTests : IDisposable
{
    private readonly ConfigFixture _fixture = new();

    public void Dispose() => _fixture.Dispose();

    [Theory]
    [InlineData("\"512M\"", 512UL << 20)]
    [InlineData("\"2G\"", 2UL << 30)]
    [InlineData("\"1536MiB\"", 1536UL << 20)]
    [InlineData("\"4096K\"", 4UL << 20)]
    [InlineData("\"1GiB\"", 1UL << 30)]
    [InlineData("2097152", 2UL << 20)]
    [InlineData("\"2097152\"", 2UL << 20)]
    public void Memory_AcceptsSizesAndByteCounts(string json, ulong expected)
    {
        Assert.Equal(expected, _fixture.Spec($$"""{ "machine": { "memory": {{json}} } }""").Machine.MemoryBytes);
    }

    [Theory]
    [InlineData("\"513M\"", "$.machine.memory: expected a size that is a multiple of 2 MiB such as \"512M\", got \"513M\"")]
    [InlineData("3145728", "$.machine.memory: expected a size that is a multiple of 2 MiB such as \"512M\", got 3145728")]
    [InlineData("\"1M\"", "$.machine.memory: expected a size of at least 2 MiB such as \"512M\", got \"1M\"")]
    [InlineData("0", "$.machine.memory: expected a size of at least 2 MiB such as \"512M\", got 0")]
    [InlineData("\"lots\"", "$.machine.memory: expected a size such as \"512M\", \"2G\" or \"1536MiB\", or a byte count, got string \"lots\"")]
    [InlineData("\"512MB\"", "$.machine.memory: expected a size such as \"512M\", \"2G\" or \"1536MiB\", or a byte count, got string \"512MB\"")]
    [InlineData("-2", "$.machine.memory: expected a size such as \"512M\", \"2G\" or \"1536MiB\", or a byte count, got number -2")]
    [InlineData("1.5", "$.machine.memory: expected a size such as \"512M\", \"2G\" or \"1536MiB\", or a byte count, got number 1.5")]
    [InlineData("\"99999999999999999999G\"", "$.machine.memory: expected a size such as \"512M\", \"2G\" or \"1536MiB\", or a byte count, got string \"99999999999999999999G\"")]
    public void Memory_Errors(string json, string expected)
    {
        Assert.Equal([expected], _fixture.Errors($$"""{ "machine": { "memory": {{json}} } }"""));
    }

    [Theory]
    [InlineData("\"two\"", "$.machine.vcpus: expected an integer from 1 to 255, got string \"two\"")]
    [InlineData("0", "$.machine.vcpus: expected an integer from 1 to 255, got number 0")]
    [InlineData("256", "$.machine.vcpus: expected an integer from 1 to 255, got number 256")]
    [InlineData("1.5", "$.machine.vcpus: expected an integer from 1 to 255, got number 1.5")]
    [InlineData("null", "$.machine.vcpus: expected an integer from 1 to 255, got null")]
    public void Vcpus_Errors(string json, string expected)
    {
        Assert.Equal([expected], _fixture.Errors($$"""{ "machine": { "vcpus": {{json}} } }"""));
    }

    [Fact]
    public void Vcpus_255_IsValid()
    {
        Assert.Equal(255, _fixture.Spec("""{ "machine": { "vcpus": 255 } }""").Machine.Vcpus);
    }

    [Fact]
    public void KernelAndInitrd_ResolveAgainstTheConfigFolder()
    {
        string kernel = _fixture.CreateFile("guest/vmlinuz");
        string initrd = _fixture.CreateFile("guest/initrd.img");

        Core.Config.MachineSpec machine = _fixture.Spec("""{ "machine": { "kernel": "guest/vmlinuz", "initrd": "guest/initrd.img", "cmdline": "quiet" } }""").Machine;

        Assert.Equal(kernel, machine.KernelPath);
        Assert.Equal(initrd, machine.InitrdPath);
        Assert.Equal("quiet", machine.CommandLine);
    }

    [Fact]
    public void MissingKernelAndInitrd_NameTheAbsolutePath()
    {
        string dir = _fixture.Directory;

        Assert.Equal(
            [$"$.machine.kernel: file '{dir}/guest/vmlinuz' does not exist", $"$.machine.initrd: file '{dir}/initrd' does not exist"],
            _fixture.Errors("""{ "machine": { "kernel": "guest/vmlinuz", "initrd": "initrd" } }"""));
    }

    [Fact]
    public void Kernel_ThatIsAFolder_IsNamedAsOne()
    {
        string dir = _fixture.Directory;
        System.IO.Directory.CreateDirectory(Path.Combine(dir, "guest"));

        Assert.Equal([$"$.machine.kernel: expected a file, got the folder '{dir}/guest'"], _fixture.Errors("""{ "machine": { "kernel": "guest" } }"""));
    }

    [Fact]
    public void Kernel_NotAString_IsAnError()
    {
        Assert.Equal(["$.machine.kernel: expected a file path, got number 7"], _fixture.Errors("""{ "machine": { "kernel": 7 } }"""));
    }

    [Fact]
    public void Initrd_WithoutKernel_IsAnError()
    {
        _fixture.CreateFile("initrd");

        Assert.Equal(
            ["$.machine.initrd: expected an initrd only together with a kernel, got an initrd without $.machine.kernel"],
            _fixture.Errors("""{ "machine": { "initrd": "initrd" } }"""));
    }

    [Fact]
    public void Cmdline_NotAString_IsAnError()
    {
        Assert.Equal(["$.machine.cmdline: expected a kernel command line string, got an array"], _fixture.Errors("""{ "machine": { "cmdline": [] } }"""));
    }

    [Fact]
    public void AllMachineErrors_AreCollected()
    {
        Assert.Equal(3, _fixture.Errors("""{ "machine": { "memory": "1M", "vcpus": 0, "cmdline": 1 } }""").Length);
    }
}
