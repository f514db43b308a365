namespace Vmm.Plugins.Display.Vnc;

/// <summary>X11 keysyms (what RFB KeyEvent carries) to Linux evdev key codes (linux/input-event-codes.h), for a US layout.</summary>
internal static class KeysymMap
{
    private static readonly Dictionary<uint, ushort> s_special = new()
    {
        [0xFF08] = 14,  // BackSpace → KEY_BACKSPACE
        [0xFF09] = 15,  // Tab
        [0xFF0D] = 28,  // Return → KEY_ENTER
        [0xFF1B] = 1,   // Escape
        [0xFF50] = 102, // Home
        [0xFF51] = 105, // Left
        [0xFF52] = 103, // Up
        [0xFF53] = 106, // Right
        [0xFF54] = 108, // Down
        [0xFF55] = 104, // Page_Up
        [0xFF56] = 109, // Page_Down
        [0xFF57] = 107, // End
        [0xFF63] = 110, // Insert
        [0xFFFF] = 111, // Delete
        [0xFFE1] = 42,  // Shift_L
        [0xFFE2] = 54,  // Shift_R
        [0xFFE3] = 29,  // Control_L
        [0xFFE4] = 97,  // Control_R
        [0xFFE9] = 56,  // Alt_L
        [0xFFEA] = 100, // Alt_R
        [0xFFE7] = 125, // Meta_L → KEY_LEFTMETA
        [0xFFEB] = 125, // Super_L
        [0xFFEC] = 126, // Super_R
        [0xFFE5] = 58,  // Caps_Lock
        [0xFF7F] = 69,  // Num_Lock
        [0xFF14] = 70,  // Scroll_Lock
        [0xFF61] = 99,  // Print → KEY_SYSRQ
        [0xFF13] = 119, // Pause
        [0xFF67] = 127, // Menu → KEY_COMPOSE
        [0x0020] = 57,  // space
    };

    // Printable ASCII: the evdev key and whether Shift is part of the character on a US layout.
    private static readonly Dictionary<char, (ushort Key, bool Shift)> s_ascii = CreateAscii();

    /// <summary>Finds the evdev key for <paramref name="keysym"/>; false for keysyms without one.</summary>
    public static bool TryGetKey(uint keysym, out ushort key)
    {
        if (s_special.TryGetValue(keysym, out key))
        {
            return true;
        }

        if (keysym is >= 0xFFBE and <= 0xFFC7)
        {
            key = (ushort)(59 + (keysym - 0xFFBE)); // F1..F10 → KEY_F1 (59)..KEY_F10 (68)
            return true;
        }

        if (keysym is 0xFFC8 or 0xFFC9)
        {
            key = (ushort)(87 + (keysym - 0xFFC8)); // F11, F12
            return true;
        }

        if (keysym is >= 0x20 and < 0x7F && s_ascii.TryGetValue((char)keysym, out (ushort Key, bool Shift) entry))
        {
            key = entry.Key;
            return true;
        }

        key = 0;
        return false;
    }

    private static Dictionary<char, (ushort, bool)> CreateAscii()
    {
        var map = new Dictionary<char, (ushort, bool)>();
        void Row(string plain, string shifted, ushort firstKey)
        {
            for (int i = 0; i < plain.Length; i++)
            {
                map[plain[i]] = ((ushort)(firstKey + i), false);
                map[shifted[i]] = ((ushort)(firstKey + i), true);
            }
        }

        Row("1234567890-=", "!@#$%^&*()_+", 2);  // KEY_1 = 2 .. KEY_EQUAL = 13
        Row("qwertyuiop[]", "QWERTYUIOP{}", 16); // KEY_Q = 16 .. KEY_RIGHTBRACE = 27
        Row("asdfghjkl;'`", "ASDFGHJKL:\"~", 30); // KEY_A = 30 .. KEY_GRAVE = 41
        map['\\'] = (43, false);
        map['|'] = (43, true);
        Row("zxcvbnm,./", "ZXCVBNM<>?", 44);      // KEY_Z = 44 .. KEY_SLASH = 53
        map[' '] = (57, false);
        return map;
    }
}
