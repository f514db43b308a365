using System.Diagnostics;
using Vmm.Contracts.Virtio;
using Vmm.Testing.VhostUser;
using Vmm.Testing.VhostUser.Gpu;

namespace Vmm.GpuBench;

/// <summary>A damage rectangle to push every frame.</summary>
internal sealed record Damage(string Name, int X, int Y, int Width, int Height)
{
    public long Bytes => (long)Width * Height * GpuDriver.BytesPerPixel;
}

/// <summary>One back-end through the shared front-end: set-up, then each damage case for a fixed time, frames checked on the display.</summary>
internal static class Workload
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    /// <summary>Frames per second for each damage case, in order.</summary>
    public static double[] Run(Backend backend, int width, int height, IReadOnlyList<Damage> cases, TimeSpan duration, int seed)
    {
        using VhostUserFrontend frontend = VhostUserFrontend.Connect(backend.SocketPath, 64UL << 20);
        frontend.Negotiate(VirtioFeatures.Version1 | VirtioFeatures.RingEventIndex);
        // The same front-end sequence for both: QEMU's front-end hands every vhost-user-gpu back-end its display
        // socket; ours keeps it and shows frames through its display sink instead.
        using VhostUserGpuDisplayPeer peer = VhostUserGpuDisplayPeer.Attach(frontend, width, height);
        VhostUserFrontendQueue control = frontend.StartQueue(0, 256);
        _ = frontend.StartQueue(1, 16);
        IBenchDisplay display = backend.Sink is { } sink ? sink : new PeerDisplay(peer);

        var driver = new GpuDriver(frontend, control, width, height);
        var random = new Random(seed);
        random.NextBytes(frontend.Memory.GetSpan(driver.Backing, width * height * GpuDriver.BytesPerPixel));
        driver.SetUp();

        double[] rates = new double[cases.Count];
        for (int i = 0; i < cases.Count; i++)
        {
            Damage damage = cases[i];
            // New pixels in the damaged rows, so the check after the run proves this case's frames were shown.
            for (int y = damage.Y; y < damage.Y + damage.Height; y++)
            {
                random.NextBytes(frontend.Memory.GetSpan(driver.Backing + (ulong)(((y * width) + damage.X) * GpuDriver.BytesPerPixel), damage.Width * GpuDriver.BytesPerPixel));
            }

            driver.Target(damage.X, damage.Y, damage.Width, damage.Height);
            long shown = display.Frames;
            for (int warm = 0; warm < 5; warm++)
            {
                driver.Frame();
                WaitShown(display, ++shown);
            }

            long frames = 0;
            var watch = Stopwatch.StartNew();
            while (watch.Elapsed < duration)
            {
                driver.Frame();
                WaitShown(display, ++shown);
                frames++;
            }

            rates[i] = frames / watch.Elapsed.TotalSeconds;
            CheckShown(backend.Name, display, frontend, driver);
        }

        return rates;
    }

    /// <summary>Plain copies of <paramref name="bytes"/> bytes per second (one Span copy, no virtio).</summary>
    public static double MemoryCopy(long bytes, TimeSpan duration)
    {
        byte[] source = new byte[bytes];
        byte[] destination = new byte[bytes];
        new Random(3).NextBytes(source);
        for (int warm = 0; warm < 5; warm++)
        {
            source.AsSpan().CopyTo(destination);
        }

        long copies = 0;
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < duration)
        {
            source.AsSpan().CopyTo(destination);
            copies++;
        }

        return copies / watch.Elapsed.TotalSeconds;
    }

    private static void WaitShown(IBenchDisplay display, long count)
    {
        if (!display.WaitForFrames(count, s_timeout))
        {
            throw new TimeoutException($"The display did not show frame {count}.");
        }
    }

    private static void CheckShown(string backend, IBenchDisplay display, VhostUserFrontend frontend, GpuDriver driver)
    {
        (byte[] pixels, int width, int height) = display.CopyFrame();
        if (width != driver.Width || height != driver.Height)
        {
            throw new InvalidOperationException($"{backend}: the display shows {width}x{height}, expected {driver.Width}x{driver.Height}.");
        }

        if (!frontend.Memory.GetSpan(driver.Backing, pixels.Length).SequenceEqual(pixels))
        {
            throw new InvalidOperationException($"{backend}: the display's frame differs from the guest's pixels.");
        }
    }
}
