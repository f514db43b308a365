using Vmm.Core.Display;
using Vmm.Plugins.Display.Png;
using Vmm.Plugins.Display.Tests;
using static Vmm.Plugins.VirtioGpu.Tests.GpuCommands;

namespace Vmm.Plugins.VirtioGpu.Tests;

/// <summary>The device as a display source end to end: a Linux-like bring-up through the display router into the PNG sink.</summary>
public sealed class VirtioGpuPngBringUpTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("vmm-png-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task A_linux_like_bring_up_through_the_router_ends_in_a_png_with_the_guest_pixels()
    {
        const uint width = 40, height = 30;
        using var guest = new GpuGuest();
        var router = new DisplayRouter();
        using var png = new PngSink("png0");
        router.AddDevices([guest.Device, png]);

        guest.Send(GetEdid(0), 1056);
        guest.Send(GetDisplayInfo(), 408);
        Assert.Equal(GpuGuest.OkNoData, guest.SendType(Create2D(1, 2, width, height)));
        byte[] image = VirtioGpuBringUpTests.Pattern(width, height);
        ulong backing = guest.Machine.Allocator.Allocate((ulong)image.Length, 4096);
        guest.Machine.Memory.Write(backing, image);
        guest.SendType(AttachBacking(1, (backing, (uint)image.Length)));
        guest.SendType(Transfer(1, 0, 0, width, height, 0));
        guest.SendType(SetScanout(0, 1, 0, 0, width, height));
        guest.SendType(Flush(1, 0, 0, width, height));

        string path = Path.Combine(_folder, "screen.png");
        await png.SnapshotAsync(path, TestContext.Current.CancellationToken);

        (int w, int h, byte[] rgb) = PngTestDecoder.Decode(await File.ReadAllBytesAsync(path, TestContext.Current.CancellationToken));
        Assert.Equal((40, 30), (w, h));
        Assert.Equal(Frames.Rgb(image, 40 * 30), rgb);
    }
}
