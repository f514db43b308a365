using System.Globalization;

namespace Vmm.Core.Config;

/// <summary>Parses memory sizes: <c>"512M"</c>, <c>"2G"</c>, <c>"1536MiB"</c>, <c>"65536K"</c>, or plain bytes. Units are binary.</summary>
internal static class SizeParser
{
    /// <summary>Parses <paramref name="text"/>; false when it is not a size or does not fit 64 bits.</summary>
    public static bool TryParse(string text, out ulong bytes)
    {
        bytes = 0;
        ReadOnlySpan<char> span = text.AsSpan().Trim();
        int digits = 0;
        while (digits < span.Length && char.IsAsciiDigit(span[digits]))
        {
            digits++;
        }

        if (digits == 0 || !ulong.TryParse(span[..digits], NumberStyles.None, CultureInfo.InvariantCulture, out ulong number))
        {
            return false;
        }

        int shift;
        switch (span[digits..].Trim().ToString())
        {
            case "" or "B":
                shift = 0;
                break;
            case "K" or "KiB":
                shift = 10;
                break;
            case "M" or "MiB":
                shift = 20;
                break;
            case "G" or "GiB":
                shift = 30;
                break;
            case "T" or "TiB":
                shift = 40;
                break;
            default:
                return false;
        }

        if (number > ulong.MaxValue >> shift)
        {
            return false;
        }

        bytes = number << shift;
        return true;
    }
}
