using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging.Abstractions;
using Vmm.Contracts.Display;
using Vmm.Contracts.Memory;
using Vmm.Contracts.Virtio;
using Vmm.Core.Memory;
using Vmm.Plugins.VirtioGpu.Blobs;
using Vmm.Plugins.VirtioGpu.Protocol;
using Vmm.Plugins.VirtioGpu.Resources;
using Vmm.Plugins.VirtioGpu.Scanouts;

namespace Vmm.Plugins.VirtioGpu.Tests;

/// <summary>
/// A frame of a blob scanout over scattered guest pages is published without allocating: in segments to a sink that
/// takes them, and from the shadow (once it exists) to one that does not.
/// </summary>
public sealed class BlobFrameAllocationTests
{
    private const int Width = 64;
    private const int Height = 32;
    private const int Stride = Width * 4;
    private const int Bytes = Stride * Height;
    private const int RunBytes = 1000;

    [Fact]
    public void Publishing_a_scattered_blob_frame_allocates_nothing()
    {
        using GuestMemory memory = GuestMemory.Create(1 << 20);
        // 1000-byte runs 2 KiB apart: no two adjacent, cuts mid-row.
        GuestBuffer[] runs = [.. Enumerable.Range(0, (Bytes + RunBytes - 1) / RunBytes).Select(i => new GuestBuffer((ulong)i * 2048, (uint)Math.Min(RunBytes, Bytes - (i * RunBytes))))];
        var blob = new GpuBlobResource(1, GpuLayout.BlobMemGuest, 0, Bytes, new GuestBacking(runs), hostBlob: null);
        var framebuffer = new BlobFramebuffer(PixelFormat.B8G8R8X8, Width, Height, Stride, 0);
        var shown = new GpuRect(0, 0, Width, Height);
        Assert.True(DisplayPublisher.CanSegment(blob, framebuffer, shown, memory, out int surfaceLength));
        var scanout = new Scanout(Width, Height);
        scanout.ShowBlob(1, shown, framebuffer, BlobSource.Segments, surfaceLength);

        using var meter = new Meter(nameof(BlobFrameAllocationTests));
        var publisher = new DisplayPublisher(new CommandLog(NullLogger.Instance, "gpu0"), meter.CreateCounter<long>("frames"));
        var sink = new CopySink { TakesSegments = true };
        publisher.Connect(sink);
        var damage = new GpuRect(3, 8, Width - 5, 9);

        Assert.Equal(0, AllocatedPublishing(publisher, blob, scanout, damage, memory));
        Assert.Equal(101, sink.SegmentedFrames);

        // A sink that takes no segments: the first frame allocates the shadow and gathers it whole, then none.
        sink.TakesSegments = false;
        publisher.PublishBlob(blob, scanout, damage, memory);
        Assert.Equal(0, AllocatedPublishing(publisher, blob, scanout, damage, memory));
        Assert.Equal(101, sink.SegmentedFrames);
        Assert.Equal(203, sink.Frames);
    }

    private static long AllocatedPublishing(DisplayPublisher publisher, GpuBlobResource blob, Scanout scanout, GpuRect damage, IGuestMemory memory)
    {
        publisher.PublishBlob(blob, scanout, damage, memory);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            publisher.PublishBlob(blob, scanout, damage, memory);
        }

        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    /// <summary>Copies each frame's damage into its own framebuffer, as a display does; allocation-free.</summary>
    private sealed class CopySink : IDisplaySegmentedFrameSink
    {
        private readonly byte[] _frame = new byte[Bytes];

        public string Id => "copy";

        public bool TakesSegments { get; set; }

        public bool AcceptsSegmentedFrames => TakesSegments;

        public int Frames { get; private set; }

        public int SegmentedFrames { get; private set; }

        public void OnModeChanged(DisplayMode mode)
        {
        }

        public void OnFrame(DisplayFrame frame)
        {
            foreach (DamageRect rect in frame.Damage)
            {
                frame.CopyRect(rect, _frame.AsSpan((rect.Y * Stride) + (rect.X * 4)), Stride);
            }

            Frames++;
            SegmentedFrames += frame.IsSegmented ? 1 : 0;
        }

        public void OnCursorShape(CursorShape shape)
        {
        }

        public void OnCursorPosition(CursorPosition position)
        {
        }

        public void Dispose()
        {
        }
    }
}
