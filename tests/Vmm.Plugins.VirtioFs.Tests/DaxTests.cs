using Vmm.Contracts.Virtio;
using Vmm.Core.Memory;
using Vmm.Plugins.VirtioFs.Fuse;
using Vmm.Testing.Diagnostics;
using Vmm.Testing.Virtio;

namespace Vmm.Plugins.VirtioFs.Tests;

/// <summary>The DAX window: SETUPMAPPING puts file pages in region 0, REMOVEMAPPING makes them inaccessible again.</summary>
public sealed unsafe class DaxTests : IDisposable
{
    private const ulong Window = 4UL << 20;
    private const ulong Range = 2UL << 20;
    private const uint MapAlignmentFlag = 1u << 26;

    private readonly TempShare _share = new();

    public void Dispose() => _share.Dispose();

    [Fact]
    public void TheWindowIsAdvertisedAndTheMappedBytesAreTheFileBytes()
    {
        byte[] data = new byte[3 << 20];
        new Random(7).NextBytes(data);
        File.WriteAllBytes(_share.InShare("data.bin"), data);
        using FuseTestClient client = FuseTestClient.Start(_share.Share, new VirtioFsOptions { Dax = new VirtioFsDaxOptions { WindowSize = Window } });
        Assert.True(client.Driver.TryFindSharedMemory(0, out _, out ulong length));
        Assert.Equal(Window, length);
        FuseReply init = client.Init().Ok();

        // Activation runs on the device worker; INIT's reply proves it happened.
        Assert.True(client.FsDevice.HasDaxWindow);
        Assert.NotEqual(0u, init.U32(12) & MapAlignmentFlag);
        Assert.Equal(12, init.Payload[30]);

        ulong node = client.LookupNode(1, "data.bin");
        Assert.Equal(4096u, client.GetAttr(node).Ok().U32(16 + 80));
        var window = (SharedMemoryWindow)client.Transport.SharedMemory[0];

        // File chunk 1 (bytes 2..3 MiB of which exist) at window offset 2 MiB; read-only, as 6.1 maps for reads.
        SetupMapping(client, node, fileOffset: Range, windowOffset: Range, write: false).Ok();
        var view = new ReadOnlySpan<byte>((byte*)window.HostAddress + Range, 1 << 20);
        Assert.True(view.SequenceEqual(data.AsSpan((int)Range, 1 << 20)));
        Assert.Equal("r--s", ProcessMaps.PermissionsAt(window.HostAddress + (nint)Range));
        Assert.Equal("---p", ProcessMaps.PermissionsAt(window.HostAddress));

        // The upgrade to write replaces the mapping; a store through the window reaches the host file.
        SetupMapping(client, node, fileOffset: Range, windowOffset: Range, write: true).Ok();
        Assert.Equal("rw-s", ProcessMaps.PermissionsAt(window.HostAddress + (nint)Range));
        ((byte*)window.HostAddress)[Range + 10] = 0x5A;
        using (FileStream file = File.OpenRead(_share.InShare("data.bin")))
        {
            file.Position = (long)Range + 10;
            Assert.Equal(0x5A, file.ReadByte());
        }

        Assert.Equal(0, RemoveMapping(client, (Range, Range)).Error);
        Assert.Equal("---p", ProcessMaps.PermissionsAt(window.HostAddress + (nint)Range));
    }

    [Fact]
    public void MisalignedOutOfBoundsAndForeignMappingsAreRefused()
    {
        File.WriteAllBytes(_share.InShare("f"), new byte[8192]);
        Directory.CreateDirectory(_share.InShare("d"));
        using FuseTestClient client = FuseTestClient.Start(_share.Share, new VirtioFsOptions { Dax = new VirtioFsDaxOptions { WindowSize = Window } });
        client.Init().Ok();
        ulong file = client.LookupNode(1, "f");
        ulong directory = client.LookupNode(1, "d");
        var window = (SharedMemoryWindow)client.Transport.SharedMemory[0];

        Assert.Equal(-Errno.EINVAL, SetupMapping(client, file, 0, 1, write: false).Error);
        Assert.Equal(-Errno.EINVAL, SetupMapping(client, file, 1, 0, write: false).Error);
        Assert.Equal(-Errno.EINVAL, SetupMapping(client, file, 0, Window, write: false).Error);
        Assert.Equal(-Errno.EINVAL, SetupMapping(client, file, 0, Window - 4096, write: false, length: Range).Error);
        Assert.Equal(-Errno.EINVAL, SetupMapping(client, file, 0, ulong.MaxValue - 4095, write: false).Error);
        Assert.Equal(-Errno.EINVAL, SetupMapping(client, file, ulong.MaxValue - 4095, 0, write: false).Error);
        Assert.Equal(-Errno.EINVAL, SetupMapping(client, file, 0, 0, write: false, length: 0).Error);
        Assert.Equal(-Errno.EINVAL, SetupMapping(client, directory, 0, 0, write: false).Error);
        Assert.Equal(-Errno.ENOENT, SetupMapping(client, 12345, 0, 0, write: false).Error);
        Assert.Equal(-Errno.EINVAL, RemoveMapping(client, (Window, Range)).Error);
        Assert.Equal(-Errno.EINVAL, RemoveMapping(client, (0, ulong.MaxValue - 4095)).Error);
        Assert.Equal("---p", ProcessMaps.PermissionsAt(window.HostAddress));

        // A new session (remount) clears what the last one mapped.
        SetupMapping(client, file, 0, 0, write: false, length: 8192).Ok();
        Assert.Equal("r--s", ProcessMaps.PermissionsAt(window.HostAddress));
        client.Init().Ok();
        Assert.Equal("---p", ProcessMaps.PermissionsAt(window.HostAddress));
    }

    [Fact]
    public void WithoutAWindowNoRegionIsAskedForAndMappingIsNotImplemented()
    {
        File.WriteAllBytes(_share.InShare("f"), new byte[8192]);
        using FuseTestClient client = FuseTestClient.Start(_share.Share);
        Assert.Empty(client.Device.SharedMemoryRegions);
        Assert.False(client.Driver.TryFindSharedMemory(0, out _, out _));
        FuseReply init = client.Init().Ok();
        Assert.Equal(0u, init.U32(12) & MapAlignmentFlag);
        Assert.Equal(-Errno.ENOSYS, SetupMapping(client, client.LookupNode(1, "f"), 0, 0, write: false).Error);
    }

    [Fact]
    public void APlatformWithoutSharedMemoryLeavesTheDeviceWorkingWithoutAWindow()
    {
        using var device = new VirtioFsDevice("fs0", _share.Share, new VirtioFsOptions { Dax = new VirtioFsDaxOptions { WindowSize = Window } },
            Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance, meterFactory: null);
        Assert.Single(device.SharedMemoryRegions);
        device.Activate(new EmptyDeviceContext());
        Assert.False(device.HasDaxWindow);
    }

    private static FuseReply SetupMapping(FuseTestClient client, ulong node, ulong fileOffset, ulong windowOffset, bool write, ulong length = Range)
        => client.Send(FuseOpcode.SetupMapping, node,
            new FuseArgsBuilder().U64(ulong.MaxValue).U64(fileOffset).U64(length).U64(write ? 3ul : 2ul).U64(windowOffset).ToArray());

    private static FuseReply RemoveMapping(FuseTestClient client, params (ulong Offset, ulong Length)[] ranges)
    {
        var args = new FuseArgsBuilder().U32((uint)ranges.Length);
        foreach ((ulong offset, ulong length) in ranges)
        {
            args.U64(offset).U64(length);
        }

        return client.Send(FuseOpcode.RemoveMapping, 1, args.ToArray());
    }
}
