using Vmm.Core.Hosting;
using Vmm.Qemu.GuestImages;
using Xunit;

namespace Vmm.Cli.Tests;

/// <summary>
/// The default guest of a vmm installed over an older vmm's image: the image is used as it is while it is newer
/// than the scripts that build it, and handed to the build script (which rebuilds it when they changed) when not.
/// A fake build script in a tools/ layout like the one the tool package ships records each run.
/// </summary>
public sealed class GuestImageCacheTests : IDisposable
{
    private static readonly DateTime s_old = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
    private static readonly DateTime s_new = new(2026, 6, 1, 0, 0, 0, DateTimeKind.Utc);

    private readonly CliFixture _fixture = new();
    private readonly string _image;
    private readonly string _script;
    private readonly string _agent;
    private readonly string _runs;

    public GuestImageCacheTests()
    {
        _image = Path.Combine(_fixture.Directory, "image");
        string tools = Path.Combine(_fixture.Directory, "app", "tools");
        Directory.CreateDirectory(_image);
        Directory.CreateDirectory(Path.Combine(tools, "guest-image"));
        Directory.CreateDirectory(Path.Combine(tools, "guest-agents", "vmm-exec-agent"));
        _runs = Path.Combine(_fixture.Directory, "runs");
        _script = Path.Combine(tools, "guest-image", "build.sh");
        _agent = Path.Combine(tools, "guest-agents", "vmm-exec-agent", "main.c");
        File.WriteAllText(_agent, "int main(void) { return 0; }\n");
        File.WriteAllText(Path.Combine(tools, "guest-image", "init"), "#!/bin/sh\n");
        foreach (string name in new[] { "vmlinux", "initrd.img", "stamp" })
        {
            File.WriteAllText(Path.Combine(_image, name), "old image\n");
        }
    }

    public void Dispose() => _fixture.Dispose();

    [Fact]
    public async Task AnImageNewerThanItsScripts_IsUsed_WithoutRunningTheScript()
    {
        WriteScript("exit 0");
        Age(image: s_new, scripts: s_old);

        GuestImageResult result = await new GuestImageCache(_image, _script).EnsureAsync(null, TestContext.Current.CancellationToken);

        Assert.Equal(Path.Combine(_image, "vmlinux"), result.Paths?.KernelPath);
        Assert.False(File.Exists(_runs));
    }

    [Fact]
    public async Task AnImageOlderThanAnAgentSource_IsHandedToTheScript_AndMarkedChecked()
    {
        WriteScript("echo 'guest-image: building' >&2; echo new > \"$2/initrd.img\"");
        Age(image: s_old, scripts: s_old);
        File.SetLastWriteTimeUtc(_agent, s_new);
        StringWriter progress = new();

        GuestImageResult result = await new GuestImageCache(_image, _script).EnsureAsync(progress, TestContext.Current.CancellationToken);

        Assert.NotNull(result.Paths);
        Assert.Equal($"--out {_image}", File.ReadAllText(_runs).Trim());
        Assert.Equal("new", File.ReadAllText(Path.Combine(_image, "initrd.img")).Trim());
        Assert.Contains($"vmm: the guest image in {_image} is older than the scripts of this vmm; checking it with {_script}", progress.ToString(), StringComparison.Ordinal);
        Assert.True(File.GetLastWriteTimeUtc(Path.Combine(_image, "stamp")) > s_new);
    }

    [Fact]
    public async Task AnOldImageTheScriptCannotRebuild_IsUsed_WithAWarning()
    {
        WriteScript("echo 'guest-image: error: not root' >&2; exit 1");
        Age(image: s_old, scripts: s_new);
        StringWriter progress = new();

        GuestImageResult result = await new GuestImageCache(_image, _script).EnsureAsync(progress, TestContext.Current.CancellationToken);

        Assert.Equal(Path.Combine(_image, "vmlinux"), result.Paths?.KernelPath);
        Assert.Contains("vmm: warning: the guest image could not be rebuilt (the build script exited with code 1: guest-image: error: not root)", progress.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnImageWithoutAStamp_WasNotMadeByTheScript_AndIsUsedAsItIs()
    {
        WriteScript("exit 0");
        File.Delete(Path.Combine(_image, "stamp"));
        Age(image: s_old, scripts: s_new);

        GuestImageResult result = await new GuestImageCache(_image, _script).EnsureAsync(null, TestContext.Current.CancellationToken);

        Assert.NotNull(result.Paths);
        Assert.False(File.Exists(_runs));
    }

    // The cache runs the script only where it can build an image: with bash and apt-get.
    private void WriteScript(string body)
    {
        if (ExecutableSearch.FindOnPath("apt-get") is null || ExecutableSearch.FindOnPath("bash") is null)
        {
            Assert.Skip("the guest image cache runs its build script only where apt-get and bash are on PATH; this host lacks one");
        }

        File.WriteAllText(_script, $"echo \"$@\" >> '{_runs}'\n{body}\n");
    }

    private void Age(DateTime image, DateTime scripts)
    {
        foreach (string file in Directory.EnumerateFiles(_image))
        {
            File.SetLastWriteTimeUtc(file, image);
        }

        foreach (string file in Directory.EnumerateFiles(Path.GetDirectoryName(_script)!).Append(_agent))
        {
            File.SetLastWriteTimeUtc(file, scripts);
        }
    }
}
