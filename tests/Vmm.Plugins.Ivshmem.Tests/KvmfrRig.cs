using Vmm.Contracts.Display;
using Vmm.Plugins.Ivshmem.Kvmfr;
using Vmm.Plugins.Ivshmem.Lgmp;
using Vmm.Plugins.Ivshmem.SharedMemory;
using Vmm.Testing.Time;

namespace Vmm.Plugins.Ivshmem.Tests;

/// <summary>A producer and its consumers over one native region, on a manual clock, the heartbeat driven by the test.</summary>
internal sealed class KvmfrRig : IDisposable
{
    public KvmfrRig(long size = 16 << 20, KvmfrProducerOptions? options = null)
    {
        Region = SharedRegion.AllocateNative(size);
        Options = options ?? new KvmfrProducerOptions();
        Options = Options with { HeartbeatThread = false, MaxFrameWait = TimeSpan.FromMilliseconds(1) };
        Producer = new KvmfrProducer(Region, Options, Time);
    }

    public SharedRegion Region { get; }

    public ManualTimeProvider Time { get; } = new();

    public KvmfrProducerOptions Options { get; }

    public KvmfrProducer Producer { get; }

    public static KvmfrConsumerOptions ConsumerOptions { get; } = new() { FrameWaitTimeout = TimeSpan.FromMilliseconds(20) };

    public (KvmfrConsumer Consumer, RecordingHandler Handler) Join()
    {
        var consumer = new KvmfrConsumer(Region, ConsumerOptions, Time);
        var handler = new RecordingHandler();
        consumer.Poll(handler); // init
        Time.AdvanceMs(LgmpProtocol.StartupWaitMs);
        Producer.Heartbeat();
        consumer.Poll(handler); // session init
        consumer.Poll(handler); // subscribe
        Assert.Equal(KvmfrConsumerState.Connected, consumer.State);
        Producer.Heartbeat(); // new subscribers: re-post the last frame and cursor
        return (consumer, handler);
    }

    public KvmfrSubmitResult Submit(Image image, params DamageRect[] damage) =>
        Producer.SubmitFrame(image.Width, image.Height, FrameType.Bgra, image.Pixels, image.Width * 4, damage);

    public void Dispose()
    {
        Producer.Dispose();
        Region.Dispose();
    }
}

/// <summary>A BGRA test image with a deterministic pattern and rect repaints.</summary>
internal sealed class Image(int width, int height, int seed)
{
    public int Width { get; } = width;

    public int Height { get; } = height;

    public byte[] Pixels { get; } = Pattern(width, height, seed);

    public DamageRect Paint(DamageRect rect, int seed)
    {
        rect = DamageAccumulator.Clip(rect, Width, Height);
        for (int y = rect.Y; y < rect.Bottom; y++)
        {
            for (int x = rect.X; x < rect.Right; x++)
            {
                int at = ((y * Width) + x) * 4;
                Pixels[at] = (byte)(x + seed);
                Pixels[at + 1] = (byte)(y * 3 + seed);
                Pixels[at + 2] = (byte)seed;
                Pixels[at + 3] = 0xFF;
            }
        }

        return rect;
    }

    private static byte[] Pattern(int width, int height, int seed)
    {
        byte[] pixels = new byte[width * height * 4];
        new Random(seed).NextBytes(pixels);
        return pixels;
    }
}
