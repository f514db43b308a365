using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Vmm.Contracts;
using Vmm.Contracts.Devices;
using Vmm.Contracts.Pci;
using Vmm.Core.Config;
using Vmm.Core.Control;
using Vmm.Core.Hosting;
using Vmm.Core.Plugins;
using Vmm.Plugins.Ivshmem.Device;
using Vmm.Testing.Devices;
using Xunit;

namespace Vmm.Plugins.Ivshmem.Tests.Device;

/// <summary>
/// The <c>ivshmem</c> options as a config gives them: each wrong value is one line with its JSON path at validation
/// time (which creates nothing), and what only creation can find is one message naming the device.
/// </summary>
public sealed class IvshmemDeviceFactoryTests : IDisposable
{
    private const string OptionsPath = "$.devices[1].options";

    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web)
    {
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
    };

    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void DefaultsAreAnAnonymous32MiBMemfd()
    {
        IvshmemOptions options = Read("{}");

        Assert.Empty(Validate(options));
        using IDevice device = Create(options);
        IvshmemDevice ivshmem = Assert.IsType<IvshmemDevice>(device);
        Assert.Null(ivshmem.SharedMemory.Path);
        Assert.Equal(32L << 20, ivshmem.SharedMemory.Size);
        Assert.Equal(32UL << 20, Assert.Single(ivshmem.Bars, b => b.Index == 2).Size);
    }

    [Fact]
    public void AMissingFileInAWritableFolderIsValidAndOnlyCreationCreatesIt()
    {
        IvshmemOptions options = Read("""{ "path": "looking-glass", "size": 2097152 }""");

        Assert.Empty(Validate(options));
        Assert.False(File.Exists(_folder.File("looking-glass")), "Validation created the file.");

        using IDevice device = Create(options);
        Assert.Equal(2L << 20, new FileInfo(_folder.File("looking-glass")).Length);
    }

    [Theory]
    [InlineData("""{ "size": 3145728 }""", "size", "must be a power of two (PCI BAR sizes are), got 3145728.")]
    [InlineData("""{ "size": 524288 }""", "size", "must be at least 1048576 bytes (1 MiB), got 524288.")]
    [InlineData("""{ "size": 0 }""", "size", "must be at least 1048576 bytes (1 MiB), got 0.")]
    [InlineData("""{ "size": 68719476736 }""", "size", "must be at most 34359738368 bytes (32 GiB), got 68719476736.")]
    [InlineData("""{ "path": " " }""", "path", "must be a file path (for example \"/dev/shm/looking-glass\") or left out for an anonymous memfd.")]
    public void AWrongSizeOrEmptyPathIsOneLineWithItsPath(string json, string member, string message)
    {
        Assert.Equal([($"{OptionsPath}.{member}", message)], Validate(Read(json)));
    }

    [Fact]
    public void APathThatIsADirectoryIsRefused()
    {
        Directory.CreateDirectory(_folder.File("dir"));

        (string Path, string Message) error = Assert.Single(Validate(Read("""{ "path": "dir" }""")));

        Assert.Equal($"{OptionsPath}.path", error.Path);
        Assert.Equal($"'{_folder.File("dir")}' is a directory; name a file in it, for example '{_folder.File("dir/looking-glass")}'.", error.Message);
    }

    [Fact]
    public void APathInAMissingFolderIsRefused()
    {
        (string Path, string Message) error = Assert.Single(Validate(Read("""{ "path": "no-such-folder/looking-glass" }""")));

        Assert.Equal(($"{OptionsPath}.path", $"the folder '{_folder.File("no-such-folder")}' does not exist."), error);
    }

    [Fact]
    public void AnExistingFileOfAnotherSizeIsRefusedNamingBothSizesAndLeftAlone()
    {
        string path = _folder.File("looking-glass");
        File.WriteAllBytes(path, new byte[4096]);

        (string Path, string Message) error = Assert.Single(Validate(Read("""{ "path": "looking-glass", "size": 1048576 }""")));

        Assert.Equal($"{OptionsPath}.path", error.Path);
        Assert.StartsWith($"'{path}' is 4096 bytes but size is 1048576; delete the file or set size to 4096", error.Message, StringComparison.Ordinal);
        Assert.Equal(4096, new FileInfo(path).Length);

        // Had validation been skipped, creation refuses it the same way, still without truncating.
        VmmException created = Assert.ThrowsAny<VmmException>(() => Create(Read("""{ "path": "looking-glass", "size": 1048576 }""")));
        Assert.Contains("is 4096 bytes but 1048576 bytes were asked for", created.Message, StringComparison.Ordinal);
        Assert.Equal(4096, new FileInfo(path).Length);
    }

    [Fact]
    public void AnExistingFileOfTheSizeOrEmptyIsValid()
    {
        File.WriteAllBytes(_folder.File("sized"), new byte[1 << 20]);
        File.WriteAllBytes(_folder.File("empty"), []);

        Assert.Empty(Validate(Read("""{ "path": "sized", "size": 1048576 }""")));
        Assert.Empty(Validate(Read("""{ "path": "empty", "size": 1048576 }""")));
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public void AFolderThisUserCannotWriteIsRefused()
    {
        if (Environment.UserName == "root")
        {
            Assert.Skip("root may write any folder on a writable file system; run as another user to check this path.");
        }

        string locked = Directory.CreateDirectory(_folder.File("locked")).FullName;
        File.SetUnixFileMode(locked, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        try
        {
            (string Path, string Message) error = Assert.Single(Validate(Read("""{ "path": "locked/looking-glass" }""")));
            Assert.Equal($"{OptionsPath}.path", error.Path);
            Assert.StartsWith($"cannot create '{locked}/looking-glass': the folder '{locked}' is not writable by this user", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.SetUnixFileMode(locked, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    [Fact]
    public void AFileThatCannotBeCreatedFailsTheVmWithOneLineNamingTheDevice()
    {
        // procfs: the folder exists and even root passes the access check, but no file can be created in it.
        var spec = new VmSpec(
            new MachineSpec(64UL << 20, 1, null, null, ""),
            PlatformKind.Kvm,
            [new DeviceSpec("lg0", "ivshmem", IvshmemDeviceFactory.Type, new IvshmemOptions { Path = "/proc/vmm-ivshmem-test" }, new IvshmemDeviceFactory(), "$.devices[1]")],
            null,
            null,
            _folder.Path);
        var context = new VmRunContext(NullLoggerFactory.Instance, EmptyPluginCatalog.Instance, new ControlCommandRegistry());

        VmmException error = Assert.ThrowsAny<VmmException>(() => VmDeviceSet.Create(spec, context));

        Assert.StartsWith("$.devices[1].options (ivshmem 'lg0'): cannot open or create '/proc/vmm-ivshmem-test': ", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    private IvshmemOptions Read(string json) => JsonSerializer.Deserialize<IvshmemOptions>(json, s_json)!;

    private List<(string Path, string Message)> Validate(IvshmemOptions options)
    {
        var context = new DeviceOptionsValidationContext(OptionsPath, _folder.Path);
        ((IDeviceFactory)new IvshmemDeviceFactory()).Validate(options, context);
        return [.. context.Errors];
    }

    private IDevice Create(IvshmemOptions options) =>
        ((IDeviceFactory)new IvshmemDeviceFactory()).Create(new DeviceCreateContext("lg0", NullLoggerFactory.Instance, null, EmptyServiceProvider.Instance, _folder.Path), options);
}
