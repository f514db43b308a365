using Vmm.Contracts.Display;

namespace Vmm.GpuBench;

/// <summary>
/// The display for our device: copies each frame's damaged rectangles into its own packed framebuffer, the work
/// the vhost-user-gpu display peer does with QEMU's UPDATE messages. It reads frames through
/// <see cref="DisplayFrame.CopyRect"/>, so it takes segmented frames (a 2D resource over scattered backing).
/// </summary>
internal sealed class FrameCopySink : IDisplaySegmentedFrameSink, IBenchDisplay
{
    private const int BytesPerPixel = 4;

    private readonly object _sync = new();
    private byte[] _frame = [];
    private int _width;
    private int _height;
    private long _frames;

    public string Id => "bench-sink";

    public bool AcceptsSegmentedFrames => true;

    public long Frames
    {
        get
        {
            lock (_sync)
            {
                return _frames;
            }
        }
    }

    public void OnModeChanged(DisplayMode mode)
    {
        lock (_sync)
        {
            _width = mode.Width;
            _height = mode.Height;
            _frame = new byte[mode.Width * mode.Height * BytesPerPixel];
        }
    }

    public void OnFrame(DisplayFrame frame)
    {
        lock (_sync)
        {
            int packed = _width * BytesPerPixel;
            foreach (DamageRect damage in frame.Damage)
            {
                frame.CopyRect(damage, _frame.AsSpan((damage.Y * packed) + (damage.X * BytesPerPixel)), packed);
            }

            _frames++;
            Monitor.PulseAll(_sync);
        }
    }

    public void OnCursorShape(CursorShape shape)
    {
    }

    public void OnCursorPosition(CursorPosition position)
    {
    }

    public bool WaitForFrames(long count, TimeSpan timeout)
    {
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        lock (_sync)
        {
            while (_frames < count)
            {
                long left = deadline - Environment.TickCount64;
                if (left <= 0)
                {
                    return false;
                }

                Monitor.Wait(_sync, (int)left);
            }

            return true;
        }
    }

    public (byte[] Pixels, int Width, int Height) CopyFrame()
    {
        lock (_sync)
        {
            return ((byte[])_frame.Clone(), _width, _height);
        }
    }

    public void Dispose()
    {
    }
}
