namespace Vmm.Plugins.Display.Png;

/// <summary>CRC-32 (ISO 3309, reflected polynomial 0xEDB88320) as PNG chunks use it.</summary>
internal static class Crc32
{
    private static readonly uint[] s_table = CreateTable();

    public static uint Update(uint crc, ReadOnlySpan<byte> data)
    {
        uint c = ~crc;
        foreach (byte b in data)
        {
            c = s_table[(c ^ b) & 0xFF] ^ (c >> 8);
        }

        return ~c;
    }

    private static uint[] CreateTable()
    {
        uint[] table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
            }

            table[n] = c;
        }

        return table;
    }
}
