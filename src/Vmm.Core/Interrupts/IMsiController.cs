namespace Vmm.Core.Interrupts;

/// <summary>A platform's MSI delivery: hands out vectors for devices' MSI-X table entries.</summary>
public interface IMsiController
{
    /// <summary>Creates a delivery path; it sends nothing until configured.</summary>
    IMsiVector CreateVector();
}
