using System.Diagnostics;
using Vmm.Contracts.Virtio;
using Vmm.Testing.VhostUser;
using Vmm.Plugins.VirtioGpu.Testing.VhostUser;

namespace Vmm.GpuBench;

/// <summary>
/// One back-end driven through the shared front-end: connected, negotiated, display socket handed over, resource
/// created and shown; then timed slices of frames, each frame answered and shown on the display before the next.
/// </summary>
internal sealed class BenchSession : IDisposable
{
    private const ulong FeatureResourceBlob = 1UL << 3;
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    private readonly VhostUserFrontend _frontend;
    private readonly VhostUserGpuDisplayPeer _peer;
    private readonly IBenchDisplay _display;
    private readonly GpuDriver _driver;
    private readonly Random _random;
    private long _shown;

    private BenchSession(Backend backend, VhostUserFrontend frontend, VhostUserGpuDisplayPeer peer, IBenchDisplay display, GpuDriver driver, Random random)
    {
        Backend = backend;
        _frontend = frontend;
        _peer = peer;
        _display = display;
        _driver = driver;
        _random = random;
    }

    public Backend Backend { get; }

    /// <summary>Whether the back-end offered RESOURCE_BLOB, so blob scanouts can be measured (ours; not QEMU's).</summary>
    public bool HasBlobs => _driver.BlobPages != 0;

    /// <summary>Whether each frame waits for the transfer's answer before posting the flush.</summary>
    public bool OneAtATime { get; init; }

    public static BenchSession Open(Backend backend, int width, int height, int seed, bool oneAtATime, bool scattered = false)
    {
        VhostUserFrontend frontend = VhostUserFrontend.Connect(backend.SocketPath, 64UL << 20);
        // RESOURCE_BLOB where offered: QEMU's vhost-user-gpu offers none, so it measures 2D scanouts only.
        frontend.Negotiate(VirtioFeatures.Version1 | VirtioFeatures.RingEventIndex | FeatureResourceBlob);
        // The same front-end sequence for both: QEMU's front-end hands every vhost-user-gpu back-end its display
        // socket; ours keeps it and shows frames through its display sink instead.
        VhostUserGpuDisplayPeer peer = VhostUserGpuDisplayPeer.Attach(frontend, width, height);
        VhostUserFrontendQueue control = frontend.StartQueue(0, 256);
        _ = frontend.StartQueue(1, 16);
        IBenchDisplay display = backend.Sink is { } sink ? sink : new PeerDisplay(peer);
        var driver = new GpuDriver(frontend, control, width, height, scattered);
        var random = new Random(seed);
        random.NextBytes(frontend.Memory.GetSpan(driver.Backing, width * height * GpuDriver.BytesPerPixel));
        driver.SetUp();
        if ((frontend.NegotiatedFeatures & FeatureResourceBlob) != 0)
        {
            driver.SetUpBlob();
            random.NextBytes(frontend.Memory.GetSpan(driver.BlobPages, width * height * GpuDriver.BytesPerPixel));
        }

        return new BenchSession(backend, frontend, peer, display, driver, random) { OneAtATime = oneAtATime };
    }

    /// <summary>
    /// The right resource on the scanout (the 2D resource, or the blob for a blob case), fresh pixels in the damaged
    /// rows, the commands aimed at them, and a few warm-up frames.
    /// </summary>
    public void Target(Damage damage)
    {
        if (_driver.ShowingBlob != damage.Blob)
        {
            _driver.Show(damage.Blob);
        }

        int width = _driver.Width;
        for (int y = damage.Y; y < damage.Y + damage.Height; y++)
        {
            ulong offset = (ulong)(((y * width) + damage.X) * GpuDriver.BytesPerPixel);
            _driver.ForEachPiece(offset, damage.Width * GpuDriver.BytesPerPixel, (piece, _) => _random.NextBytes(piece));
        }

        _driver.Target(damage.X, damage.Y, damage.Width, damage.Height);
        // SET_SCANOUT[_BLOB] published a frame of its own.
        _shown = _display.Frames;
        for (int warm = 0; warm < 5; warm++)
        {
            ShowFrame();
        }
    }

    /// <summary>Frames per second over <paramref name="duration"/>.</summary>
    public double Measure(TimeSpan duration)
    {
        long frames = 0;
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < duration)
        {
            ShowFrame();
            frames++;
        }

        return frames / watch.Elapsed.TotalSeconds;
    }

    /// <summary>Throws unless the display shows exactly the guest's pixels.</summary>
    public void CheckShown()
    {
        (byte[] pixels, int width, int height) = _display.CopyFrame();
        if (width != _driver.Width || height != _driver.Height)
        {
            throw new InvalidOperationException($"{Backend.Name}: the display shows {width}x{height}, expected {_driver.Width}x{_driver.Height}.");
        }

        bool same = true;
        _driver.ForEachPiece(0, pixels.Length, (piece, offset) => same &= piece.SequenceEqual(pixels.AsSpan((int)offset, piece.Length)));
        if (!same)
        {
            throw new InvalidOperationException($"{Backend.Name}: the display's frame differs from the guest's pixels.");
        }
    }

    public void Dispose()
    {
        _peer.Dispose();
        _frontend.Dispose();
    }

    private void ShowFrame()
    {
        _driver.Frame(OneAtATime);
        if (!_display.WaitForFrames(++_shown, s_timeout))
        {
            throw new TimeoutException($"{Backend.Name}: the display did not show frame {_shown}.");
        }
    }
}
