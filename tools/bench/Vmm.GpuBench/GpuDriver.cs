using System.Buffers.Binary;
using Vmm.Contracts.Memory;
using Vmm.Contracts.Virtio;
using Vmm.Testing.VhostUser;
using static Vmm.Plugins.VirtioGpu.Testing.GpuCommandBytes;

namespace Vmm.GpuBench;

/// <summary>
/// The guest side of virtio-gpu for the benchmark: a B8G8R8X8 2D resource with one contiguous backing region (or,
/// <c>scattered</c>, the same pages attached one entry a page with each pair of pages swapped, so no two entries
/// follow each other in guest memory: the worst case of the shmem pages Linux gives a dumb buffer) and,
/// where the back-end offers RESOURCE_BLOB, a guest blob of the same size (its own pages, as a dumb buffer Linux
/// allocates with blob scanouts: one contiguous entry, or laid out as the scattered backing); either is shown on
/// scanout 0, then TRANSFER_TO_HOST_2D + RESOURCE_FLUSH pairs on the control queue, both answered before the next
/// (Linux sends both for dumb blobs too).
/// </summary>
internal sealed class GpuDriver
{
    /// <summary>Called with a contiguous piece of the resource's bytes and its offset in the resource.</summary>
    public delegate void SpanAction(Span<byte> piece, ulong offset);

    public const int BytesPerPixel = 4;
    private const int PageSize = 4096;
    private const uint ResourceId = 1;
    private const uint BlobId = 2;
    private const uint BlobMemGuest = 1;
    private const uint FormatB8G8R8X8 = 2;
    private const uint ResponseOkNoData = 0x1100;
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    private readonly VhostUserFrontend _frontend;
    private readonly VhostUserFrontendQueue _control;
    private readonly GuestBuffer[] _transfer = new GuestBuffer[1];
    private readonly GuestBuffer[] _flush = new GuestBuffer[1];
    private readonly GuestBuffer[] _transferResponse = new GuestBuffer[1];
    private readonly GuestBuffer[] _flushResponse = new GuestBuffer[1];

    public GpuDriver(VhostUserFrontend frontend, VhostUserFrontendQueue control, int width, int height, bool scattered = false)
    {
        _frontend = frontend;
        _control = control;
        Width = width;
        Height = height;
        Scattered = scattered;
        Backing = frontend.Allocator.Allocate((ulong)(width * height * BytesPerPixel), 4096);
        _transfer[0] = Place(new byte[56]);
        _flush[0] = Place(new byte[48]);
        _transferResponse[0] = new GuestBuffer(frontend.Allocator.Allocate(24, 8), 24);
        _flushResponse[0] = new GuestBuffer(frontend.Allocator.Allocate(24, 8), 24);
    }

    public int Width { get; }

    public int Height { get; }

    /// <summary>The guest address of the resource's backing (packed rows; pages swapped in pairs when <see cref="Scattered"/>).</summary>
    public ulong Backing { get; }

    /// <summary>Whether the backing and the blob are attached one page an entry, pairs of pages swapped.</summary>
    public bool Scattered { get; }

    private int BackingBytes => Width * Height * BytesPerPixel;

    /// <summary>The guest address of the blob's pages (packed rows; pages swapped in pairs when <see cref="Scattered"/>), or 0 when the back-end has no blobs.</summary>
    public ulong BlobPages { get; private set; }

    /// <summary>Whether the blob is on scanout 0 (else the 2D resource).</summary>
    public bool ShowingBlob { get; private set; }

    /// <summary>RESOURCE_CREATE_2D, RESOURCE_ATTACH_BACKING and SET_SCANOUT for the whole resource.</summary>
    public void SetUp()
    {
        Run(Command(0x0101, 40, (24, ResourceId), (28, FormatB8G8R8X8), (32, (uint)Width), (36, (uint)Height)));
        byte[] attach = Command(0x0106, 32 + (16 * EntryCount), (24, ResourceId), (28, (uint)EntryCount));
        WriteEntries(attach.AsSpan(32), Backing);
        Run(attach);
        Run(Command(0x0103, 48, (32, (uint)Width), (36, (uint)Height), (40, 0), (44, ResourceId)));
    }

    /// <summary>The guest address of byte <paramref name="offset"/> of what is shown (the 2D resource's backing or the blob's pages).</summary>
    public ulong AddressOf(ulong offset) => AddressOf(ShowingBlob ? BlobPages : Backing, offset);

    /// <summary>What is shown, a page's piece at a time (for filling and checking).</summary>
    public void ForEachPiece(ulong offset, int length, SpanAction action)
    {
        while (length > 0)
        {
            int n = Scattered ? (int)Math.Min((ulong)length, PageSize - (offset % PageSize)) : length;
            action(_frontend.Memory.GetSpan(AddressOf(offset), n), offset);
            offset += (ulong)n;
            length -= n;
        }
    }

    /// <summary>RESOURCE_CREATE_BLOB (guest memory; one entry, or one a page when <see cref="Scattered"/>) over fresh pages; shown later by <see cref="Show"/>.</summary>
    public void SetUpBlob()
    {
        ulong size = (ulong)BackingBytes;
        BlobPages = _frontend.Allocator.Allocate(size, 4096);
        byte[] create = Command(0x010c, 56 + (16 * EntryCount), (24, BlobId), (28, BlobMemGuest), (36, (uint)EntryCount));
        BinaryPrimitives.WriteUInt64LittleEndian(create.AsSpan(48), size);
        WriteEntries(create.AsSpan(56), BlobPages);
        Run(create);
    }

    /// <summary>Puts the blob (SET_SCANOUT_BLOB, stride width * 4, offset 0) or the 2D resource (SET_SCANOUT) on scanout 0.</summary>
    public void Show(bool blob)
    {
        if (blob)
        {
            Run(Command(0x010d, 96, (32, (uint)Width), (36, (uint)Height), (40, 0), (44, BlobId), (48, (uint)Width), (52, (uint)Height),
                (56, FormatB8G8R8X8), (64, (uint)(Width * BytesPerPixel)), (80, 0)));
        }
        else
        {
            Run(Command(0x0103, 48, (32, (uint)Width), (36, (uint)Height), (40, 0), (44, ResourceId)));
        }

        ShowingBlob = blob;
    }

    /// <summary>Writes the TRANSFER_TO_HOST_2D and RESOURCE_FLUSH commands for one damage rectangle of what is shown.</summary>
    public void Target(int x, int y, int width, int height)
    {
        uint id = ShowingBlob ? BlobId : ResourceId;
        byte[] transfer = Command(0x0105, 56, (24, (uint)x), (28, (uint)y), (32, (uint)width), (36, (uint)height), (48, id));
        BinaryPrimitives.WriteUInt64LittleEndian(transfer.AsSpan(40), ((ulong)y * (ulong)Width * BytesPerPixel) + ((ulong)x * BytesPerPixel));
        _frontend.Memory.Write(_transfer[0].Address, transfer);
        _frontend.Memory.Write(_flush[0].Address, Command(0x0104, 48, (24, (uint)x), (28, (uint)y), (32, (uint)width), (36, (uint)height), (40, id)));
    }

    /// <summary>
    /// One frame, both commands answered OK (allocation-free): queued together with one notification, as Linux's
    /// virtio-gpu driver sends a dumb buffer's page flip (virtio_gpu_primary_plane_update queues TRANSFER_TO_HOST_2D
    /// and RESOURCE_FLUSH, then virtio_gpu_notify kicks once and waits for the flush's fence only); or, with
    /// <paramref name="oneAtATime"/>, the flush posted only after the transfer's answer.
    /// </summary>
    public void Frame(bool oneAtATime)
    {
        if (oneAtATime)
        {
            _control.Post(_transfer, _transferResponse);
            WaitAnswered();
            _control.Post(_flush, _flushResponse);
            WaitAnswered();
        }
        else
        {
            _control.Driver.Add(_transfer, _transferResponse);
            _control.Driver.Add(_flush, _flushResponse);
            if (_control.Driver.KickNeeded())
            {
                _control.Kick();
            }

            WaitAnswered();
            WaitAnswered();
        }

        Check(_transferResponse[0].Address, "TRANSFER_TO_HOST_2D");
        Check(_flushResponse[0].Address, "RESOURCE_FLUSH");
    }

    private int EntryCount => Scattered ? (BackingBytes + PageSize - 1) / PageSize : 1;

    /// <summary>The guest address of byte <paramref name="offset"/> of the bytes placed at <paramref name="start"/>.</summary>
    private ulong AddressOf(ulong start, ulong offset)
    {
        if (!Scattered)
        {
            return start + offset;
        }

        // Page p sits where page p ^ 1 would, unless that page is past the end (an odd count's last page).
        ulong page = offset / PageSize, pages = ((ulong)BackingBytes + PageSize - 1) / PageSize;
        ulong placed = (page ^ 1) < pages ? page ^ 1 : page;
        return start + (placed * PageSize) + (offset % PageSize);
    }

    /// <summary>The virtio_gpu_mem_entry list (addr u64, length u32, padding) for the bytes placed at <paramref name="start"/>.</summary>
    private void WriteEntries(Span<byte> entries, ulong start)
    {
        for (int i = 0; i < EntryCount; i++)
        {
            ulong offset = (ulong)i * PageSize;
            int length = Scattered ? Math.Min(PageSize, BackingBytes - (int)offset) : BackingBytes;
            BinaryPrimitives.WriteUInt64LittleEndian(entries[(16 * i)..], AddressOf(start, offset));
            BinaryPrimitives.WriteUInt32LittleEndian(entries[(8 + (16 * i))..], (uint)length);
        }
    }

    private void WaitAnswered()
    {
        if (!_control.WaitForUsed(s_timeout, out _, out _))
        {
            throw new TimeoutException("The back-end did not answer a control command.");
        }
    }

    private void Check(ulong response, string what)
    {
        uint type = _frontend.Memory.ReadUInt32(response);
        if (type != ResponseOkNoData)
        {
            throw new InvalidOperationException($"{what} failed with 0x{type:x4}.");
        }
    }

    private void Run(byte[] command)
    {
        GuestBuffer request = Place(command);
        var response = new GuestBuffer(_frontend.Allocator.Allocate(24, 8), 24);
        _control.Post([request], [response]);
        WaitAnswered();
        Check(response.Address, $"Command 0x{BinaryPrimitives.ReadUInt32LittleEndian(command):x4}");
    }

    private GuestBuffer Place(byte[] bytes)
    {
        var buffer = new GuestBuffer(_frontend.Allocator.Allocate((ulong)bytes.Length, 8), (uint)bytes.Length);
        _frontend.Memory.Write(buffer.Address, bytes);
        return buffer;
    }
}
