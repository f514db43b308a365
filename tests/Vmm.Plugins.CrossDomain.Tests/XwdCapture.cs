using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Vmm.Plugins.CrossDomain.Tests;

/// <summary>The host display as X tools see it: <c>xwd -root</c> pixels and <c>xwininfo -root -tree</c> geometry.</summary>
internal sealed partial class XwdCapture
{
    private readonly byte[] _data;
    private readonly int _offset;
    private readonly int _bytesPerLine;

    private XwdCapture(byte[] data)
    {
        // XWD file header: big-endian u32 fields; header_size @0, width @16, height @20, bits_per_pixel @44,
        // bytes_per_line @48, ncolors @76; pixels after the header and ncolors 12-byte colour entries.
        _data = data;
        Width = (int)BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(16));
        Height = (int)BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(20));
        Assert.Equal(32u, BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(44)));
        _bytesPerLine = (int)BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(48));
        _offset = (int)BinaryPrimitives.ReadUInt32BigEndian(data) + ((int)BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(76)) * 12);
    }

    public int Width { get; }

    public int Height { get; }

    /// <summary>The RGB of a pixel (24 bits; the file's byte order is the server's, little-endian here).</summary>
    public uint Pixel(int x, int y) => BinaryPrimitives.ReadUInt32LittleEndian(_data.AsSpan(_offset + (y * _bytesPerLine) + (x * 4))) & 0xFFFFFF;

    public static XwdCapture Take(string display)
    {
        using Process process = XvfbServer.StartClient(display, "xwd", "-root", "-silent");
        using var memory = new MemoryStream();
        process.StandardOutput.BaseStream.CopyTo(memory);
        Assert.True(process.WaitForExit(30_000), "xwd did not finish");
        return new XwdCapture(memory.ToArray());
    }

    /// <summary>The absolute rectangle of the first window in <c>xwininfo -root -tree</c> whose line contains <paramref name="match"/>.</summary>
    public static (int X, int Y, int Width, int Height)? FindWindow(string display, string match)
    {
        string tree = XvfbServer.Run(display, "xwininfo", "-root", "-tree").Output;
        foreach (string line in tree.Split('\n'))
        {
            Match geometry = GeometryPattern().Match(line);
            if (line.Contains(match, StringComparison.Ordinal) && geometry.Success)
            {
                int Part(string name) => int.Parse(geometry.Groups[name].Value, CultureInfo.InvariantCulture);
                return (Part("x"), Part("y"), Part("w"), Part("h"));
            }
        }

        return null;
    }

    // "  0x200001 "xlogo": ("xlogo" "XLogo")  100x100+0+0  +50+60"
    [GeneratedRegex(@"(?<w>\d+)x(?<h>\d+)[+-]-?\d+[+-]-?\d+\s+\+(?<x>-?\d+)\+(?<y>-?\d+)")]
    private static partial Regex GeometryPattern();
}
