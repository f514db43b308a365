using System.Buffers.Binary;
using static Vmm.Plugins.CrossDomain.Testing.CrossDomainCommands;

namespace Vmm.Plugins.CrossDomain.Testing.X11;

/// <summary>
/// A host blob this context made a resource of and mapped into the host-visible window, where the guest reads and
/// writes it (what a Linux guest reaches through the blob's mmap). Disposing unmaps and unreferences it.
/// </summary>
internal sealed class HostBlob : IDisposable
{
    private readonly CrossDomainChannel _channel;
    private int _disposed;

    private HostBlob(CrossDomainChannel channel, uint resourceId, ulong windowOffset, ulong size)
    {
        _channel = channel;
        ResourceId = resourceId;
        WindowOffset = windowOffset;
        Size = size;
    }

    public uint ResourceId { get; }

    public ulong WindowOffset { get; }

    public ulong Size { get; }

    /// <summary>Where the guest sees the blob's bytes.</summary>
    public nint Address => _channel.Gpu.WindowAddress + (nint)WindowOffset;

    /// <summary>
    /// Allocates host memory for at least <paramref name="size"/> bytes as muvm-style guests do: GET_IMAGE_REQUIREMENTS
    /// for a linear ARGB8888 image 1024 pixels wide (one 4 KiB row a page), then CREATE_BLOB(HOST3D) from its blob id.
    /// </summary>
    public static HostBlob Allocate(CrossDomainChannel channel, ulong size)
    {
        uint rows = (uint)((size + 4095) / 4096);
        Expect(OkNoData, channel.Submit(GetImageRequirements(1024, Math.Max(1, rows), DrmFormatArgb8888)), "GET_IMAGE_REQUIREMENTS");
        Span<byte> reply = channel.Gpu.Machine.Memory.GetSpan(channel.QueryRing.Address, 64);
        ulong blobSize = BinaryPrimitives.ReadUInt64LittleEndian(reply[40..]);
        uint blobId = BinaryPrimitives.ReadUInt32LittleEndian(reply[48..]);
        return Import(channel, blobId, blobSize);
    }

    /// <summary>CREATE_BLOB(HOST3D, blob_id = <paramref name="itemId"/>), attach, MAP_BLOB: a host item the guest can touch.</summary>
    public static HostBlob Import(CrossDomainChannel channel, ulong itemId, ulong size)
    {
        CrossDomainGuestGpu gpu = channel.Gpu;
        if (gpu.WindowAddress == 0)
        {
            throw new CrossDomainGuestException("the device has no host-visible window to map host blobs into");
        }

        uint resource = gpu.NewResourceId();
        Expect(OkNoData, gpu.ControlType(CreateHostBlob(channel.ContextId, resource, itemId, size)), "RESOURCE_CREATE_BLOB(HOST3D)");
        ulong offset;
        try
        {
            Expect(OkNoData, gpu.ControlType(AttachResource(channel.ContextId, resource)), "CTX_ATTACH_RESOURCE");
            offset = gpu.AllocateWindow(size);
        }
        catch
        {
            gpu.ControlType(UnrefResource(resource));
            throw;
        }

        uint mapped = ResponseType(gpu.Control(MapBlob(resource, offset), 32));
        if (mapped != OkMapInfo)
        {
            gpu.FreeWindow(offset, size);
            gpu.ControlType(UnrefResource(resource));
            throw new CrossDomainGuestException($"RESOURCE_MAP_BLOB was answered 0x{mapped:x4}");
        }

        return new HostBlob(channel, resource, offset, size);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        CrossDomainGuestGpu gpu = _channel.Gpu;
        try
        {
            gpu.ControlType(UnmapBlob(ResourceId));
            gpu.ControlType(UnrefResource(ResourceId));
        }
        catch (CrossDomainGuestException)
        {
            // The device was reset: its resources are gone with it.
        }

        gpu.FreeWindow(WindowOffset, Size);
    }

    private static void Expect(uint expected, uint actual, string what) => CrossDomainChannel.Expect(expected, actual, what);
}
