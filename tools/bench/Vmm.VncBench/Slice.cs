using System.Diagnostics;
using Vmm.Contracts.Display;

namespace Vmm.VncBench;

/// <summary>One server, one client connection in one encoding, and the timed loop: show a frame, request, read the update.</summary>
internal sealed class Slice(IFrameServer server, RfbClient client, Frames frames)
{
    private long _next = 1;

    public IFrameServer Server => server;

    /// <summary>The index of the last frame shown.</summary>
    public long Last => _next - 1;

    /// <summary>Reads the first full update so the timed loop starts in sync.</summary>
    public void Start()
    {
        client.RequestUpdate(incremental: false);
        long covered = 0;
        while (covered < (long)frames.Width * frames.Height)
        {
            covered += client.ReadUpdate().Pixels;
            if (covered < (long)frames.Width * frames.Height)
            {
                client.RequestUpdate(incremental: false);
            }
        }
    }

    /// <summary>
    /// Frames until <paramref name="duration"/> is up. Each frame: the server is given the next frame's damage and
    /// holds it (draw time), then the client requests an incremental update and reads updates until they cover the
    /// damage (update time: encode, send, receive).
    /// </summary>
    public Result Measure(DamageRect damage, TimeSpan duration)
    {
        long area = (long)damage.Width * damage.Height;
        long count = 0, bytes = 0, updateTicks = 0;
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < duration)
        {
            server.Show(frames[_next++], damage);
            long before = Stopwatch.GetTimestamp();
            client.RequestUpdate(incremental: true);
            long covered = 0;
            while (true)
            {
                (long pixels, long updateBytes) = client.ReadUpdate();
                covered += pixels;
                bytes += updateBytes;
                if (covered >= area)
                {
                    break;
                }

                client.RequestUpdate(incremental: true);
            }

            updateTicks += Stopwatch.GetTimestamp() - before;
            count++;
        }

        double seconds = watch.Elapsed.TotalSeconds;
        return new Result(count / seconds, count / (updateTicks / (double)Stopwatch.Frequency), bytes / (double)count);
    }

    /// <summary>Throws unless the server's picture holds the last frame in the damaged rows (B, G, R compared).</summary>
    public void Check(DamageRect damage, byte[] picture)
    {
        byte[] expected = frames[Last];
        int stride = frames.Stride;
        for (int y = damage.Y; y < damage.Y + damage.Height; y++)
        {
            for (int x = damage.X; x < damage.X + damage.Width; x++)
            {
                int o = (y * stride) + (x * 4);
                if (picture[o] != expected[o] || picture[o + 1] != expected[o + 1] || picture[o + 2] != expected[o + 2])
                {
                    throw new InvalidOperationException($"{server.Name}: pixel ({x},{y}) differs from the last frame shown.");
                }
            }
        }
    }
}

/// <summary>End-to-end frames/s (draw + update), update-only frames/s, and bytes on the wire per frame.</summary>
internal readonly record struct Result(double FramesPerSecond, double UpdatesPerSecond, double BytesPerFrame);
