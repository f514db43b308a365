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
/// A frame over scattered guest pages (a blob scanout, or a mirrored 2D resource) is published without allocating: in
/// segments to a sink that takes them, and from the shadow or host copy (once it exists) to one that does not.
/// </summary>
public sealed class ScatteredFrameAllocationTests
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
        var blob = new GpuBlobResource(1, GpuLayout.BlobMemGuest, 0, Bytes, new GuestBacking(Runs()), hostBlob: null);
        var framebuffer = new BlobFramebuffer(PixelFormat.B8G8R8X8, Width, Height, Stride, 0);
        var shown = new GpuRect(0, 0, Width, Height);
        Assert.True(DisplayPublisher.CanSegment(blob, framebuffer, shown, memory, out int surfaceLength));
        var scanout = new Scanout(Width, Height);
        scanout.ShowBlob(1, shown, framebuffer, BlobSource.Segments, surfaceLength);
        using var meter = new Meter(nameof(ScatteredFrameAllocationTests));
        var publisher = new DisplayPublisher(new CommandLog(NullLogger.Instance, "gpu0"), meter.CreateCounter<long>("frames"));
        var sink = new CopySink { TakesSegments = true };
        publisher.Connect(sink);
        var damage = new GpuRect(3, 8, Width - 5, 9);

        Assert.Equal(0, Allocated(() => publisher.PublishBlob(blob, scanout, damage, memory)));

        // A sink that takes no segments: the first frame allocates the shadow and gathers it whole, then none.
        sink.TakesSegments = false;
        Assert.Equal(0, Allocated(() => publisher.PublishBlob(blob, scanout, damage, memory)));
        Assert.Equal((101, 202), (sink.SegmentedFrames, sink.Frames));
    }

    [Fact]
    public void Publishing_a_scattered_2D_frame_allocates_nothing()
    {
        using GuestMemory memory = GuestMemory.Create(1 << 20);
        var resource = new GpuResource2D(1, PixelFormat.B8G8R8X8, Width, Height, new byte[Bytes]) { Backing = new GuestBacking(Runs()) };
        resource.BeginMirror(address: null);
        var shown = new GpuRect(0, 0, Width, Height);
        using var meter = new Meter(nameof(ScatteredFrameAllocationTests));
        var publisher = new DisplayPublisher(new CommandLog(NullLogger.Instance, "gpu0"), meter.CreateCounter<long>("frames"));
        var sink = new CopySink { TakesSegments = true };
        publisher.Connect(sink);
        var damage = new GpuRect(3, 8, Width - 5, 9);

        Assert.Equal(0, Allocated(() => publisher.Publish(resource, shown, damage, memory)));
        sink.TakesSegments = false;
        Assert.Equal(0, Allocated(() => publisher.Publish(resource, shown, damage, memory)));
        Assert.Equal((101, 202), (sink.SegmentedFrames, sink.Frames));
    }

    /// <summary>1000-byte runs 2 KiB apart: no two adjacent, cuts mid-row.</summary>
    private static GuestBuffer[] Runs()
        => [.. Enumerable.Range(0, (Bytes + RunBytes - 1) / RunBytes).Select(i => new GuestBuffer((ulong)i * 2048, (uint)Math.Min(RunBytes, Bytes - (i * RunBytes))))];

    /// <summary>Bytes allocated by 100 frames after a first one (which may allocate what it keeps).</summary>
    private static long Allocated(Action publish)
    {
        publish();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            publish();
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
