namespace Vmm.Plugins.Display.Vnc;

/// <summary>RFB encoding numbers (RFC 6143 §7.7, §7.8).</summary>
internal static class RfbEncoding
{
    public const int Raw = 0;
    public const int CopyRect = 1;
    public const int Zrle = 16;
    public const int Cursor = -239;
    public const int DesktopSize = -223;
}
