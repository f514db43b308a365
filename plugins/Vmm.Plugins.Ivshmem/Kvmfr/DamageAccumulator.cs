using Vmm.Contracts.Display;

namespace Vmm.Plugins.Ivshmem.Kvmfr;

/// <summary>
/// Damage gathered since some point (a shm buffer was last written, or the last frame was posted), in at most 64
/// rects; beyond that, or when unknown, it is "everything" (<see cref="IsFull"/>). Allocation-free after construction.
/// </summary>
internal sealed class DamageAccumulator
{
    private readonly DamageRect[] _rects = new DamageRect[KvmfrProtocol.MaxDamageRects];

    /// <summary>Whether the whole frame counts as damaged.</summary>
    public bool IsFull { get; private set; } = true;

    /// <summary>The rects, when not <see cref="IsFull"/>.</summary>
    public ReadOnlySpan<DamageRect> Rects => IsFull ? [] : _rects.AsSpan(0, Count);

    /// <summary>How many rects are held.</summary>
    public int Count { get; private set; }

    /// <summary>Marks everything damaged.</summary>
    public void SetFull()
    {
        IsFull = true;
        Count = 0;
    }

    /// <summary>Forgets all damage.</summary>
    public void Clear()
    {
        IsFull = false;
        Count = 0;
    }

    /// <summary>Adds <paramref name="rects"/> clipped to <paramref name="width"/> x <paramref name="height"/>; empty means the whole frame.</summary>
    public void Add(ReadOnlySpan<DamageRect> rects, int width, int height)
    {
        if (IsFull)
        {
            return;
        }

        if (rects.IsEmpty)
        {
            SetFull();
            return;
        }

        foreach (DamageRect rect in rects)
        {
            DamageRect clipped = Clip(rect, width, height);
            if (clipped.Width <= 0 || clipped.Height <= 0)
            {
                continue;
            }

            bool covered = false;
            for (int i = 0; i < Count && !covered; i++)
            {
                covered = clipped.IsInside(_rects[i]);
            }

            if (covered)
            {
                continue;
            }

            if (Count == _rects.Length)
            {
                SetFull();
                return;
            }

            _rects[Count++] = clipped;
        }
    }

    /// <summary>The part of <paramref name="rect"/> inside <paramref name="width"/> x <paramref name="height"/> (empty when none).</summary>
    public static DamageRect Clip(DamageRect rect, int width, int height)
    {
        long x0 = Math.Clamp((long)rect.X, 0, width);
        long y0 = Math.Clamp((long)rect.Y, 0, height);
        long x1 = Math.Clamp((long)rect.X + Math.Max(0, rect.Width), 0, width);
        long y1 = Math.Clamp((long)rect.Y + Math.Max(0, rect.Height), 0, height);
        return new DamageRect((int)x0, (int)y0, (int)(x1 - x0), (int)(y1 - y0));
    }
}
