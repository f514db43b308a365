using System.Buffers.Binary;

namespace Vmm.Plugins.VirtioGpu.Protocol;

/// <summary>
/// Builds a 128-byte EDID 1.4 base block (VESA E-EDID A2): a digital sRGB display whose preferred mode is the first
/// detailed timing, one detailed timing per mode (up to three), the established VESA modes no larger than the
/// preferred one, a monitor name, and the checksum.
/// </summary>
internal static class EdidBlock
{
    public const int Size = 128;
    private const int DescriptorCount = 4;
    private const int DescriptorSize = 18;
    private const int FirstDescriptor = 54;
    private const int RefreshHz = 60;

    /// <summary>Writes the EDID of a display that offers <paramref name="modes"/> (the first preferred).</summary>
    public static void Write(ReadOnlySpan<(int Width, int Height)> modes, uint serial, Span<byte> edid)
    {
        edid[..Size].Clear();
        ReadOnlySpan<byte> header = [0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00];
        header.CopyTo(edid);

        // Manufacturer "VMM": three 5-bit letters (A = 1), big-endian.
        ushort manufacturer = (ushort)((('V' - '@') << 10) | (('M' - '@') << 5) | ('M' - '@'));
        BinaryPrimitives.WriteUInt16BigEndian(edid[8..], manufacturer);
        BinaryPrimitives.WriteUInt16LittleEndian(edid[10..], 0x1050);
        BinaryPrimitives.WriteUInt32LittleEndian(edid[12..], serial);
        edid[16] = 1;          // week of manufacture
        edid[17] = 2026 - 1990; // year
        edid[18] = 1;          // EDID version 1
        edid[19] = 4;          // revision 4
        edid[20] = 0xA5;       // digital input, 8 bits per colour, DisplayPort
        (int width0, int height0) = modes[0];
        edid[21] = (byte)Math.Clamp(width0 * 254 / 9600, 1, 255);   // screen size in cm at 96 dpi
        edid[22] = (byte)Math.Clamp(height0 * 254 / 9600, 1, 255);
        edid[23] = 120;        // gamma 2.2
        edid[24] = 0x06;       // sRGB default colour space, preferred timing is native, RGB 4:4:4

        // sRGB chromaticity (red 0.640/0.330, green 0.300/0.600, blue 0.150/0.060, white 0.3127/0.3290), 10 bits each.
        WriteChromaticity(edid[25..]);

        // The VESA established timings that fit inside the preferred mode, so a guest can switch to a smaller mode
        // it knows (640x480, 800x600, 1024x768 at 60 Hz) without inventing timings; standard timings unused (0x01 0x01).
        WriteEstablishedTimings(width0, height0, edid[35..38]);
        for (int i = 38; i < 54; i++)
        {
            edid[i] = 0x01;
        }

        int descriptor = 0;
        for (int i = 0; i < modes.Length && descriptor < DescriptorCount - 1; i++)
        {
            WriteDetailedTiming(modes[i].Width, modes[i].Height, edid.Slice(FirstDescriptor + (descriptor++ * DescriptorSize), DescriptorSize));
        }

        WriteMonitorName("Vmm virtio-gpu", edid.Slice(FirstDescriptor + (descriptor++ * DescriptorSize), DescriptorSize));
        while (descriptor < DescriptorCount)
        {
            // Dummy descriptor (tag 0x10).
            edid[FirstDescriptor + (descriptor++ * DescriptorSize) + 3] = 0x10;
        }

        edid[126] = 0; // no extension blocks
        byte sum = 0;
        for (int i = 0; i < Size - 1; i++)
        {
            sum += edid[i];
        }

        edid[127] = (byte)(256 - sum);
    }

    private static void WriteEstablishedTimings(int preferredWidth, int preferredHeight, Span<byte> timings)
    {
        // Byte 35 bit 5: 640x480@60, bit 0: 800x600@60; byte 36 bit 3: 1024x768@60 (E-EDID A2, table 3.18).
        if (preferredWidth >= 640 && preferredHeight >= 480)
        {
            timings[0] |= 0x20;
        }

        if (preferredWidth >= 800 && preferredHeight >= 600)
        {
            timings[0] |= 0x01;
        }

        if (preferredWidth >= 1024 && preferredHeight >= 768)
        {
            timings[1] |= 0x08;
        }
    }

    /// <summary>A CVT-style reduced-blanking timing at 60 Hz: 160 pixels of horizontal blanking and at least 460 us of vertical.</summary>
    private static void WriteDetailedTiming(int width, int height, Span<byte> d)
    {
        const int hBlank = 160, hFrontPorch = 48, hSync = 32, vFrontPorch = 3, vSync = 6;
        int hTotal = width + hBlank;

        // Lines of vertical blanking so the blank lasts 460 us: blank / total = 460us * 60.
        int vBlank = Math.Max(vFrontPorch + vSync + 6, (int)Math.Ceiling(height * 0.0276 / (1 - 0.0276)));
        int vTotal = height + vBlank;
        long clock10kHz = ((long)hTotal * vTotal * RefreshHz + 9_999) / 10_000;
        BinaryPrimitives.WriteUInt16LittleEndian(d, (ushort)Math.Min(clock10kHz, ushort.MaxValue));
        d[2] = (byte)width;
        d[3] = (byte)hBlank;
        d[4] = (byte)(((width >> 8) & 0xF) << 4 | ((hBlank >> 8) & 0xF));
        d[5] = (byte)height;
        d[6] = (byte)vBlank;
        d[7] = (byte)(((height >> 8) & 0xF) << 4 | ((vBlank >> 8) & 0xF));
        d[8] = hFrontPorch;
        d[9] = hSync;
        d[10] = vFrontPorch << 4 | vSync;
        d[11] = 0;
        int widthMm = width * 254 / 960;
        int heightMm = height * 254 / 960;
        d[12] = (byte)widthMm;
        d[13] = (byte)heightMm;
        d[14] = (byte)(((widthMm >> 8) & 0xF) << 4 | ((heightMm >> 8) & 0xF));
        d[15] = 0;
        d[16] = 0;
        d[17] = 0x1A; // digital separate sync, hsync positive, vsync negative (reduced blanking)
    }

    private static void WriteMonitorName(string name, Span<byte> d)
    {
        d[3] = 0xFC;
        int i = 0;
        for (; i < name.Length && i < 13; i++)
        {
            d[5 + i] = (byte)name[i];
        }

        if (i < 13)
        {
            d[5 + i++] = 0x0A;
        }

        for (; i < 13; i++)
        {
            d[5 + i] = 0x20;
        }
    }

    private static void WriteChromaticity(Span<byte> c)
    {
        ReadOnlySpan<double> xy = [0.640, 0.330, 0.300, 0.600, 0.150, 0.060, 0.3127, 0.3290];
        Span<int> v = stackalloc int[8];
        for (int i = 0; i < 8; i++)
        {
            v[i] = (int)Math.Round(xy[i] * 1024);
        }

        c[0] = (byte)(((v[0] & 3) << 6) | ((v[1] & 3) << 4) | ((v[2] & 3) << 2) | (v[3] & 3));
        c[1] = (byte)(((v[4] & 3) << 6) | ((v[5] & 3) << 4) | ((v[6] & 3) << 2) | (v[7] & 3));
        for (int i = 0; i < 8; i++)
        {
            c[2 + i] = (byte)(v[i] >> 2);
        }
    }
}
