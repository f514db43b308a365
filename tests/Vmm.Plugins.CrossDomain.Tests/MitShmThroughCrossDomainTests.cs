using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Vmm.Core.Memory;
using Vmm.Plugins.CrossDomain.Host;
using Vmm.Plugins.CrossDomain.Protocol;
using Vmm.Plugins.VirtioGpu;

namespace Vmm.Plugins.CrossDomain.Tests;

/// <summary>
/// MIT-SHM through the channel with a real Xvfb: the server's ShmCreateSegment reply carries a memfd (SCM_RIGHTS),
/// which arrives as a VIRTGPU_BLOB identifier; the guest imports it as a HOST3D blob, maps it into the host-visible
/// window, writes pixels there, and the server's ShmPutImage reads those very pages (core GetImage gives them back).
/// The other way, a futex file the guest shares through virtio-fs reaches the server as an SHM identifier.
/// </summary>
public sealed class MitShmThroughCrossDomainTests(XvfbServer xvfb) : IClassFixture<XvfbServer>
{
    private const int Width = 64;
    private const int Height = 48;
    private const int ImageBytes = Width * Height * 4;

    [Fact]
    public void A_server_memfd_becomes_a_mapped_host_blob_that_shm_put_image_draws_from()
    {
        if (xvfb.SkipReason is string reason)
        {
            Assert.Skip(reason);
        }

        using var guest = TestGuests.Create(
            new CrossDomainSettings(x11: DisplaySocket.ParseX11(xvfb.Display, out _)),
            new VirtioGpuOptions { HostVisibleWindowSize = 4UL << 20 });
        (uint idBase, uint root, byte shm) = ConnectWithFdPassingShm(guest, "ShmCreateSegment (fd passing)");

        // ShmCreateSegment (minor 7): the reply passes one fd.
        uint segment = idBase | 2;
        byte[] create = Request(shm, 7, 16, (4, segment), (8, ImageBytes));
        guest.Send(create);
        byte[] created = guest.Receive(32);
        Assert.Equal((1, 1), (created[0], created[1]));
        (uint itemId, uint type, uint size) = Assert.Single(guest.ReceivedIdentifiers);
        Assert.Equal(((uint)CrossDomainIdentifierType.VirtgpuBlob, (uint)ImageBytes), (type, size));
        Assert.True(itemId >= 2);

        // What muvm's bridge does with it: CREATE_BLOB(HOST3D, blob_id = identifier), attach, MAP_BLOB.
        byte[] blob = CrossDomainCommands.Command(0x010C, 56, CrossDomainGuest.ContextId, (24, 20), (28, 2), (32, 3));
        BinaryPrimitives.WriteUInt64LittleEndian(blob.AsSpan(40), itemId);
        BinaryPrimitives.WriteUInt64LittleEndian(blob.AsSpan(48), size);
        Assert.Equal(CrossDomainCommands.OkNoData, guest.Control(blob));
        Assert.Equal(CrossDomainCommands.OkNoData, guest.Control(CrossDomainCommands.Command(0x0202, 32, CrossDomainGuest.ContextId, (24, 20))));
        byte[] map = CrossDomainCommands.Command(0x0208, 40, 0, (24, 20));
        BinaryPrimitives.WriteUInt64LittleEndian(map.AsSpan(32), 0x10000);
        Assert.Equal(0x1106u, BinaryPrimitives.ReadUInt32LittleEndian(guest.ControlResponse(map, 32)));

        // The guest draws into the window: the server's own segment.
        nint pixels = ((SharedMemoryWindow)guest.Transport.SharedMemory[0]).HostAddress + 0x10000;
        for (int y = 0; y < Height; y++)
        {
            for (int x = 0; x < Width; x++)
            {
                Marshal.WriteInt32(pixels, ((y * Width) + x) * 4, Pixel(x, y));
            }
        }

        uint pixmap = idBase | 3;
        uint gc = idBase | 4;
        byte[] createPixmap = Request(53, 24, 16, (4, pixmap), (8, root), (12, Width | (Height << 16)));
        byte[] createGc = Request(55, 0, 16, (4, gc), (8, pixmap));
        // ShmPutImage (minor 3): total and source 64x48, ZPixmap depth 24, from offset 0 of the segment.
        byte[] putImage = Request(shm, 3, 40, (4, pixmap), (8, gc), (12, Width | (Height << 16)), (20, Width | (Height << 16)), (28, 24 | (2 << 8)), (32, segment));
        byte[] getImage = Request(73, 2, 20, (4, pixmap), (12, Width | (Height << 16)), (16, uint.MaxValue));
        guest.Send([.. createPixmap, .. createGc, .. putImage, .. getImage]);

        byte[] image = guest.Receive(32);
        Assert.Equal(1, image[0]);
        int length = (int)X11Wire.U32(image, 4) * 4;
        Assert.Equal(ImageBytes, length);
        byte[] data = guest.Receive(length);
        for (int i = 0; i < Width * Height; i++)
        {
            Assert.Equal(Pixel(i % Width, i / Width) & 0xFFFFFF, BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(i * 4)) & 0xFFFFFF);
        }
    }

    /// <summary>
    /// An SHM identifier (libkrun's type 5, the id of a forwarded futex) passes the exported /dev/shm file itself to
    /// the X server: ShmAttachFd makes it a segment there, and ShmPutImage from it draws what the host file holds.
    /// </summary>
    [Fact]
    public void An_shm_identifier_passes_the_futex_file_to_the_server_which_draws_from_it()
    {
        const uint futexId = 0x5eed_0010;
        const int side = 32; // a 4 KiB file: 32x32 pixels of 4 bytes
        if (xvfb.SkipReason is string reason)
        {
            Assert.Skip(reason);
        }

        using var file = new SharedFutexFile(side * side * 4);
        byte[] pixels = new byte[side * side * 4];
        for (int i = 0; i < side * side; i++)
        {
            BinaryPrimitives.WriteInt32LittleEndian(pixels.AsSpan(i * 4), Pixel(i % side, i / side));
        }

        File.WriteAllBytes(file.Path, pixels);
        using var guest = TestGuests.Create(new CrossDomainSettings(x11: DisplaySocket.ParseX11(xvfb.Display, out _), exports: [file]));
        (uint idBase, uint root, byte shm) = ConnectWithFdPassingShm(guest, "ShmAttachFd");

        // FUTEX_NEW on the export, then ShmAttachFd (minor 6) whose one fd is the SHM identifier naming that futex.
        Assert.Equal(CrossDomainCommands.OkNoData, guest.Submit(CrossDomainCommands.FutexNew(SharedFutexFile.FileSystemId, SharedFutexFile.Handle, futexId)));
        uint segment = idBase | 2;
        byte[] attach = Request(shm, 6, 12, (4, segment));
        Assert.Equal(CrossDomainCommands.OkNoData, guest.Submit(CrossDomainCommands.SendMessage(attach, [(futexId, (uint)CrossDomainIdentifierType.Shm)])));

        uint pixmap = idBase | 3;
        uint gc = idBase | 4;
        byte[] createPixmap = Request(53, 24, 16, (4, pixmap), (8, root), (12, side | (side << 16)));
        byte[] createGc = Request(55, 0, 16, (4, gc), (8, pixmap));
        byte[] putImage = Request(shm, 3, 40, (4, pixmap), (8, gc), (12, side | (side << 16)), (20, side | (side << 16)), (28, 24 | (2 << 8)), (32, segment));
        byte[] getImage = Request(73, 2, 20, (4, pixmap), (12, side | (side << 16)), (16, uint.MaxValue));
        guest.Send([.. createPixmap, .. createGc, .. putImage, .. getImage]);

        byte[] image = guest.Receive(32);
        Assert.True(image[0] == 1, $"the server answered {image[0]} (error code {image[1]}, major {image[10]}, minor {X11Wire.U16(image, 8)})");
        byte[] data = guest.Receive((int)X11Wire.U32(image, 4) * 4);
        Assert.Equal(pixels.Length, data.Length);
        for (int i = 0; i < side * side; i++)
        {
            Assert.Equal(Pixel(i % side, i / side) & 0xFFFFFF, BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(i * 4)) & 0xFFFFFF);
        }
    }

    private static int Pixel(int x, int y) => (x * 4) | ((y * 5) << 8) | (0x40 << 16);

    /// <summary>An X request: opcode, the data byte, length in 4-byte units, then 32-bit fields.</summary>
    private static byte[] Request(byte opcode, byte data, int size, params (int Offset, long Value)[] fields)
    {
        byte[] request = new byte[size];
        request[0] = opcode;
        request[1] = data;
        BinaryPrimitives.WriteUInt16LittleEndian(request.AsSpan(2), (ushort)(size / 4));
        foreach ((int offset, long value) in fields)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(request.AsSpan(offset), (uint)value);
        }

        return request;
    }

    /// <summary>
    /// Opens an X11 channel, completes the connection setup and finds MIT-SHM; skips the test where the server's
    /// MIT-SHM is older than 1.2, which <paramref name="needs"/> (an fd-passing request) requires.
    /// </summary>
    private static (uint IdBase, uint Root, byte ShmOpcode) ConnectWithFdPassingShm(CrossDomainGuest guest, string needs)
    {
        guest.Open((uint)CrossDomainChannelType.X11);
        guest.Send(X11Wire.ConnectionSetup());
        byte[] header = guest.Receive(8);
        (uint idBase, uint root, _, _, _) = X11Wire.ParseSetup([.. header, .. guest.Receive(X11Wire.SetupReplyLength(header) - 8)]);
        guest.Send(X11Wire.QueryExtension("MIT-SHM"));
        byte[] extension = guest.Receive(32);
        Assert.Equal(1, extension[8]);
        byte shm = extension[9];
        guest.Send([shm, 0, 1, 0]); // ShmQueryVersion
        byte[] version = guest.Receive(32);
        if ((X11Wire.U16(version, 8), X11Wire.U16(version, 10)) is var (major, minor) && major == 1 && minor < 2)
        {
            Assert.Skip($"this Xvfb speaks MIT-SHM {major}.{minor}; {needs} needs 1.2");
        }

        return (idBase, root, shm);
    }
}
